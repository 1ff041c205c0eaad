# The bot's image: slim Python, the package installed (not editable), run as a user without
# privileges. Build: docker build -t sipas-bot .   Run: see compose.yaml and README.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY jobs ./jobs
# A wheel built here, installed below into a clean image: no compiler, no sources left behind.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    DATABASE_URL=sqlite+aiosqlite:////app/data/bot.db
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && groupadd --system --gid 10001 sipas \
    && useradd --system --uid 10001 --gid sipas --home-dir /app --shell /usr/sbin/nologin sipas \
    && mkdir -p /app/data && chown -R sipas:sipas /app
WORKDIR /app
USER sipas
EXPOSE 8080
VOLUME ["/app/data"]
# /healthz answers 503 while the database cannot be reached.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
CMD ["python", "-m", "bot", "run"]

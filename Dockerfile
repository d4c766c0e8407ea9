# Satchel's service image: `docker build -t satchel .`, then
#   docker run -p 8000:8000 -v satchel-data:/var/lib/satchel satchel
# runs the embedded default (SQLite + files in the volume). compose.yaml runs the production
# shape (two replicas over PostgreSQL, Redis and an S3 server); docs/deployment.md explains both.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Every extra (PostgreSQL, Redis, S3), so one image serves any configuration.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[all]"

FROM python:3.11-slim
RUN groupadd --system --gid 10001 satchel \
 && useradd --system --uid 10001 --gid satchel --home-dir /var/lib/satchel --create-home satchel
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "satchel[all]" && rm -rf /wheels
ENV SATCHEL_HOST=0.0.0.0 \
    SATCHEL_PORT=8000 \
    SATCHEL_DATA_DIR=/var/lib/satchel \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/satchel"]
WORKDIR /var/lib/satchel
USER satchel:satchel
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('SATCHEL_PORT', '8000'), timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["satchel", "serve"]

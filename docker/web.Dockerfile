# Web server + built frontend.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY web_server/ web_server/
# the AI server's answer models (pydantic only): the web server's AI client parses answers into them
COPY ai_server/__init__.py ai_server/schemas.py ai_server/
COPY migrations/ migrations/
COPY alembic.ini ./
RUN pip install --no-cache-dir ".[web]"
COPY --from=frontend /src/frontend/dist /app/frontend/dist
ENV FRONTEND_DIST=/app/frontend/dist MEDIA_DIR=/data/media
EXPOSE 8000
CMD ["sh", "-c", "python -m web_server.prestart && exec uvicorn web_server.main:app --host 0.0.0.0 --port 8000 --no-proxy-headers --workers ${WEB_WORKERS:-2}"]

# AI inference server; TensorFlow with CUDA libraries from PyPI (uses the GPU the container is given, else CPU).
FROM python:3.11-slim-bookworm
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY ai_server/ ai_server/
COPY web_server/__init__.py web_server/__init__.py
RUN pip install --no-cache-dir ".[ai-gpu]"
EXPOSE 8001
CMD ["uvicorn", "ai_server.main:app", "--host", "0.0.0.0", "--port", "8001"]

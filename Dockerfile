FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input
RUN useradd --system --uid 10001 app && mkdir -p var && chown app var
USER app
EXPOSE 8000
# gunicorn's processes share request metrics through PROMETHEUS_MULTIPROC_DIR,
# which must start empty at every start of the server.
CMD ["sh", "-c", "if [ -n \"$PROMETHEUS_MULTIPROC_DIR\" ]; then rm -rf \"$PROMETHEUS_MULTIPROC_DIR\"; mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\"; fi; exec gunicorn feedback_site.wsgi --bind 0.0.0.0:8000 --workers 3 --access-logfile -"]

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY incidents incidents
COPY escalation escalation
COPY postmortems postmortems
COPY statuspage statuspage
COPY templates templates
COPY static static
COPY manage.py Procfile ./
RUN pip install --no-cache-dir . \
 && SECRET_KEY=build-only-not-secret DEBUG=0 python manage.py collectstatic --noinput
RUN useradd --create-home vigil && mkdir -p /app/var && chown vigil /app/var
USER vigil
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]

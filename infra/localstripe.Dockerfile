# localstripe for docker-compose.yml: the same PyPI release and launcher `npm start` uses
# (infra/embedded/binaries.ts pins the version; infra/embedded/localstripe-server.py patches it, docs/local-stripe.md).
FROM python:3.11-slim
RUN pip install --no-cache-dir localstripe==1.15.10
COPY infra/embedded/localstripe-server.py /app/localstripe-server.py
EXPOSE 8420
VOLUME /data
CMD ["python", "/app/localstripe-server.py", "--host", "0.0.0.0", "--port", "8420", "--state-file", "/data/localstripe.pickle"]

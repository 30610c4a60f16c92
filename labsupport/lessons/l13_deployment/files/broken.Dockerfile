FROM python:latest
WORKDIR /app
ADD . /app
ENV BOOKSHOP_DATABASE_URL=sqlite:///shop.db
ENV BOOKSHOP_SECRET_KEY=dev-secret-that-works-on-my-machine-0123456789
RUN apt-get update && apt-get install -y curl
RUN pip install .
EXPOSE 8000
HEALTHCHECK CMD curl -f http://127.0.0.1:8000/readyz
CMD uvicorn labsupport.lessons.l13_deployment.shop:create_app --factory --host 0.0.0.0 --port 8000

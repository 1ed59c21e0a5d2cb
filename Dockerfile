# syntax=docker/dockerfile:1
# One image for every synaps process: `docker run IMAGE api|worker|projector|migrate`.
# Build: docker build -t synaps:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtualenv with the pinned dependencies, then synaps itself ----------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
RUN python -m venv /opt/synaps
COPY pyproject.toml constraints.txt README.md ./
# Dependencies first (their layer survives code changes), wheels only: nothing compiles.
RUN python -c 'import tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; print("\n".join(deps))' > requirements.txt
RUN /opt/synaps/bin/pip install --only-binary=:all: -c constraints.txt -r requirements.txt
COPY domain ./domain
COPY services ./services
COPY projections ./projections
COPY adapters ./adapters
COPY schemas ./schemas
COPY synaps ./synaps
RUN /opt/synaps/bin/pip install --no-deps -c constraints.txt . \
 && /opt/synaps/bin/python -m compileall -q /opt/synaps/lib

# -- runtime: the virtualenv on a clean slim base, as an unprivileged user --------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="synaps" \
      org.opencontainers.image.description="A control plane for agent work on an event-sourced PostgreSQL ledger" \
      org.opencontainers.image.licenses="Apache-2.0"
# The uid matches the chart's podSecurityContext.runAsUser.
RUN groupadd --system --gid 10001 synaps \
 && useradd --system --uid 10001 --gid synaps --home-dir /home/synaps --create-home \
      --shell /usr/sbin/nologin synaps
COPY --from=build /opt/synaps /opt/synaps
# Bytecode is compiled at build time: the root filesystem may be read-only at run time.
ENV PATH=/opt/synaps/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SYNAPS_HOST=0.0.0.0 \
    SYNAPS_PORT=8081 \
    SYNAPS_LOG_FORMAT=json
USER 10001:10001
WORKDIR /home/synaps
EXPOSE 8081
# No HEALTHCHECK: the same image runs workers; Kubernetes probes /healthz and /readyz.
ENTRYPOINT ["synaps"]
CMD ["api"]

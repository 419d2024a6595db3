# The Temporal server, its SQL tool and the Web UI server, built from the Go
# module proxy at the versions pinned in scripts/pins.json ("go"): the same
# build the deployment tests run (scripts/build-temporal.js), with the same
# configuration (deploy/temporal/). test/dockerCompose.test.ts checks that the
# versions here are the pinned ones.
#   docker build -f docker/temporal.Dockerfile -t bootfarm/temporal:v1.32.2 .
FROM golang:1.26.8-bookworm AS build
ARG TEMPORAL_SERVER_VERSION=v1.32.2
ARG TEMPORAL_UI_SERVER_VERSION=v2.56.4
# a release may ask for a newer Go than the image's: the go command fetches it through the module proxy
ENV GOTOOLCHAIN=auto CGO_ENABLED=0
RUN GOBIN=/out/bin go install -trimpath -ldflags='-s -w' \
      go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION} \
      go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION} \
    && mv /out/bin/server /out/bin/temporal-server && mv /out/bin/sql /out/bin/temporal-sql-tool \
    && GOBIN=/out/ui go install -trimpath -ldflags='-s -w' \
      github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_SERVER_VERSION} \
    && mv /out/ui/server /out/bin/temporal-ui-server \
    && mkdir -p /out/schema && cp -r "$(go env GOMODCACHE)/go.temporal.io/server@${TEMPORAL_SERVER_VERSION}/schema/postgresql" /out/schema/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --no-create-home temporal
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/schema/ /etc/temporal/schema/
COPY deploy/temporal/ /etc/temporal/
COPY docker/temporal-entrypoint.sh docker/temporal-schema.sh /usr/local/bin/
USER temporal
ENTRYPOINT ["/usr/local/bin/temporal-entrypoint.sh"]
CMD ["temporal-server", "--config-file", "/etc/temporal/server.yaml", "--allow-no-auth", "start", \
     "--service", "frontend", "--service", "history", "--service", "matching", "--service", "worker"]

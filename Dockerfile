# papermail: one static binary. Same build as the README's `go build`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/papermail ./cmd/papermail

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/papermail /usr/local/bin/papermail
# The store, the Maildir and the control socket live here.
ENV PAPERMAIL_DATA_DIR=/data \
    PAPERMAIL_HTTP_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
# The image has no curl: papermail asks its own /readyz on http.listen.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/papermail", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/papermail"]
CMD ["serve"]

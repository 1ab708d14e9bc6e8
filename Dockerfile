# One image, two binaries: /manager (the operator) and /gateway (the bundled
# data plane). Deployments choose one with `command`.
#
# test/packaging runs the `go build` commands of this file (parsed from it)
# and checks the binaries are static and carry the version, so a change here
# is tested without Docker.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# The VCS commit, for --version and pylon_build_info (e.g. $(git rev-parse HEAD)).
ARG REVISION=unknown

WORKDIR /workspace
# Dependencies first, so source changes do not re-download modules.
COPY go.mod go.sum ./
RUN go mod download

COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/

# CGO_ENABLED=0: static binaries for the distroless static base.
# -trimpath: no build-machine paths in the binaries (reproducible builds).
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o manager ./cmd/manager
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o gateway ./cmd/gateway

# A minimal non-root image: no shell, no package manager.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager /workspace/gateway /
USER 65532:65532

ENTRYPOINT ["/manager"]

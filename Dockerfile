# syntax=docker/dockerfile:1
# The cubit-manager image (with the kubectl-cubit plugin in /usr/local/bin, for
# `kubectl exec` and CI jobs that use the image): built on Debian bookworm with the project's own
# dependency script, run on bookworm-slim with only the shared libraries the
# binary links (derived from the binary by scripts/runtime-packages.sh, never
# listed by hand), as a non-root user, from a read-only root filesystem.
#
#   docker build -t registry.example.com/cubit/cubit-manager:0.1.0 .
#
# test/install/image.sh checks what can be checked without a container engine:
# the runtime stage's package list covers every library, and the binary starts
# as uid 65532 in a bookworm minbase root with just those packages.

FROM debian:bookworm AS build
WORKDIR /src
# The -dev packages, cmake and ninja: the same script developers and CI use.
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUBIT_E2E=OFF \
 && ninja -C /build cubit-manager kubectl-cubit \
 && strip /build/cubit-manager /build/kubectl-cubit \
 && scripts/runtime-packages.sh /build/cubit-manager > /build/runtime-packages \
 && scripts/runtime-packages.sh /build/kubectl-cubit >> /build/runtime-packages \
 && cat /build/runtime-packages

FROM debian:bookworm-slim
COPY --from=build /build/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /build/cubit-manager /usr/local/bin/cubit-manager
COPY --from=build /build/kubectl-cubit /usr/local/bin/kubectl-cubit
# No shell or package manager is needed at run time, but bookworm-slim keeps
# them; the pod's securityContext (non-root, read-only root, no capabilities)
# is what confines the process.
# Debian's libcurl links LDAP and RTMP, which link GnuTLS; GnuTLS initializes itself
# (and p11-kit's modules) when loaded unless told not to. Cubit never uses it: this
# keeps about 1.5 MiB of its pages out of every process (docs/runtime.md, "Idle").
ENV GNUTLS_NO_IMPLICIT_INIT=1
USER 65532:65532
EXPOSE 8080 8081 9443
ENTRYPOINT ["/usr/local/bin/cubit-manager"]

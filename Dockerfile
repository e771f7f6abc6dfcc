# syntax=docker/dockerfile:1
# scimitar as a container image: a build stage with the Rust toolchain, then a small final
# image holding only the binary. The suites, fixtures and certification tables are built into
# the binary (build.rs, src/embedded.rs, src/certify), so nothing else is copied across.
#
#   docker build -t scimitar .
#   docker run --rm scimitar run --embedded
#   docker run --rm --network host -e SCIM_TOKEN scimitar run --url http://127.0.0.1:8080/scim/v2

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# What `cargo build` reads: the manifest and lock file, the build script, the sources, and
# the folders the binary embeds (build.rs: suites, fixtures; src/certify: certify).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY suites ./suites
COPY fixtures ./fixtures
COPY certify ./certify
RUN cargo build --release --locked --bin scimitar \
 && strip target/release/scimitar

# glibc, libgcc, CA certificates, /tmp and a non-root user; no shell.
FROM gcr.io/distroless/cc-debian12:nonroot AS final
COPY --from=build /src/target/release/scimitar /usr/local/bin/scimitar
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/scimitar"]
CMD ["--help"]

.PHONY: test lint build bench

# Everything CI runs: installs pinned tools, starts moto, runs all tests and template checks.
test:
	bash scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

# The Lambda package (arm64 bootstrap, zipped) without Docker.
build:
	bash scripts/build.sh

bench:
	bash scripts/bench.sh

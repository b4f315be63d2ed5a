.PHONY: demo test lint build bench

# The whole story on a local AWS (moto), no account: installs the pinned Python
# tools into ./.venv, builds the provider, runs scripts/demo.py.
demo:
	bash scripts/setup.sh
	cargo build --locked --bin cross-region-param
	.venv/bin/python scripts/demo.py --binary target/debug/cross-region-param

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

.PHONY: demo deadlock test lint build bench cdk-package

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

# The CDK library's npm package (target/cdk-package/*.tgz) with make build's
# arm64 bootstrap inside, then installed and synthesized in an empty directory.
cdk-package:
	bash scripts/cdk-package.sh

# CDK's own cross-region export handlers (aws-cdk-lib 2.255.0 and 2.276.0) locking
# the story's deploy, and the migration of docs/migrating.md played on moto.
deadlock:
	bash scripts/setup.sh
	cargo build --locked --bin cross-region-param
	.venv/bin/python scripts/deadlock.py

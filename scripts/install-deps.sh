#!/bin/sh
# Installs libbert's build and test dependencies from Debian 12 packages (run as root).
# The README says why each one is here.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config \
    libdnnl-dev ocl-icd-opencl-dev \
    libjansson-dev libcmocka-dev libonig-dev libutf8proc-dev libmicrohttpd-dev \
    curl wrk \
    python3 python3-numpy python3-pytest python3-distributed python3-venv python3-pip man-db \
    parallel clang libclang-rt-14-dev

# syntax=docker/dockerfile:1
# gnmt images. torch must match scripts/deps.env (TORCH_VERSION=2.11.0, CUDA 13.0 wheels).
#   docker build --target gpu -t gnmt:gpu .      # on the official PyTorch CUDA image
#   docker build --target cpu -t gnmt:cpu .      # Debian 12, built by scripts/setup.sh like a checkout
#   docker run --gpus all -v $PWD/data:/work/data -v $PWD/runs:/work/runs gnmt:gpu \
#       train --config configs/gnmt.yaml --set device=cuda
#   multi-GPU / multi-node: README.md, "GPUs, many GPUs, Docker and Slurm" (torchrun --no-python gnmt ...)
# No Docker engine runs on the project's CI machine; CI runs the cpu stages' steps (scripts/docker_steps.sh).
ARG PYTORCH_DEVEL=pytorch/pytorch:2.11.0-cuda13.0-cudnn9-devel
ARG PYTORCH_RUNTIME=pytorch/pytorch:2.11.0-cuda13.0-cudnn9-runtime

# ---- cpu: the same setup script a developer runs ----
# CI runs these two stages' steps on its machine with scripts/docker_steps.sh (no Docker engine there):
# keep every RUN a script that is safe to run again on a machine that has everything.
FROM debian:12 AS cpu-build
ENV DEBIAN_FRONTEND=noninteractive GNMT_DEPS=/opt/gnmt-deps
WORKDIR /work
COPY . /work
RUN scripts/docker/cpu_deps.sh
RUN GNMT_BUILD_TESTS=OFF scripts/setup.sh

FROM debian:12 AS cpu
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /work
COPY scripts/docker/runtime_deps.sh scripts/docker/runtime_deps.sh
RUN scripts/docker/runtime_deps.sh
COPY --from=cpu-build /opt/gnmt-deps/venv /opt/gnmt-deps/venv
COPY --from=cpu-build /work/build/gnmt /work/build/gnmt-torch /usr/local/bin/
COPY configs /work/configs
ENTRYPOINT ["gnmt"]

# ---- gpu: built against the image's own torch ----
FROM ${PYTORCH_DEVEL} AS gpu-build
ENV DEBIAN_FRONTEND=noninteractive TORCH_CUDA_ARCH_LIST="8.0;9.0"
# CMake from PyPI: CMakeLists.txt needs >= 3.25 and Ubuntu 22.04's apt cmake is 3.22, so the build does not
# depend on which Ubuntu release the PyTorch image is built on.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential ninja-build \
      libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libsentencepiece-dev libgloo-dev \
    && rm -rf /var/lib/apt/lists/* && python -m pip install --no-cache-dir "cmake>=3.25,<4"
WORKDIR /work
COPY . /work
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGNMT_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$(python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')" \
    && cmake --build build

FROM ${PYTORCH_RUNTIME} AS gpu
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
      libyaml-cpp0.8 libspdlog1.12 libfmt9 libsentencepiece0v5 && rm -rf /var/lib/apt/lists/* || \
    (apt-get update && apt-get install -y --no-install-recommends 'libyaml-cpp0.*' 'libspdlog1*' 'libsentencepiece0*')
COPY --from=gpu-build /work/build/gnmt /work/build/gnmt-torch /usr/local/bin/
COPY configs /work/configs
WORKDIR /work
ENTRYPOINT ["gnmt"]

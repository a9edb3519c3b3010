# Cross-compiling for 64-bit ARM Linux (Raspberry Pi 3/4/5 with a 64-bit OS) on Debian, with
# crossbuild-essential-arm64 and the :arm64 -dev packages installed side by side with the native
# ones (multiarch: libraries in /usr/lib/aarch64-linux-gnu, headers shared in /usr/include).
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#
# Test programs run under qemu-user (package qemu-user), and so do the programs of the build a
# test starts (tests/CMakeLists.txt: OTAD_TEST_WRAPPER), so `ctest -L unit` works without
# binfmt_misc. CI runs the unit tests only: the integration tests' timing is not qemu's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(OTAD_CROSS_TRIPLET aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${OTAD_CROSS_TRIPLET}-gcc)
# With libc6:arm64 installed (the :arm64 -dev packages pull it in) its loader is at the path the
# binaries name and qemu needs no prefix. Only without it, the cross toolchain's copy under -L:
# qemu 7.2 with -L spins in a forked child, so tests that start programs would hang.
if(EXISTS /lib/ld-linux-aarch64.so.1)
	set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
else()
	set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${OTAD_CROSS_TRIPLET})
endif()

# Libraries and headers of the target only; programs (pkg-config, valgrind) of the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${OTAD_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config answers for arm64: only the multiarch .pc files of the target (and the
# architecture-independent ones). A caller's PKG_CONFIG (e.g. aarch64-linux-gnu-pkg-config from
# pkgconf:arm64, which dpkg-buildpackage -aarm64 uses) wins.
if(NOT DEFINED ENV{PKG_CONFIG})
	set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${OTAD_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
	set(ENV{PKG_CONFIG_PATH} "")
endif()

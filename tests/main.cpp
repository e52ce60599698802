// tests/main.cpp — the Catch2 test runner's entry point (Catch2 generates main here).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#pragma once
// The one place deepid includes xsimd (its API changed across 7.x-8.x-11.x).
#include <xsimd/xsimd.hpp>

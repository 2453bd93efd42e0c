#pragma once
// The one place deepid includes xtensor: its header paths move between
// releases (0.26 moved them into sub-folders), so a version change touches
// only this file.
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

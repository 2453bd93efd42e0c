#pragma once
// The subcommands that reproduce the DeepID2+ papers' studies on a feature
// file: sparsity statistics (stats.cpp) and LFW identification
// (identify_lfw.cpp); and the occlusion study on trained nets (occlusion.cpp).
#include "commands.hpp"

namespace deepid_cli {

int run_stats(arguments args);
int run_identify_lfw(arguments args);
int run_occlusion(arguments args);

extern const char* const stats_usage;
extern const char* const identify_lfw_usage;
extern const char* const occlusion_usage;

}  // namespace deepid_cli

#pragma once
// The one place deepid includes Eigen.
#include <Eigen/Core>
#include <Eigen/Cholesky>

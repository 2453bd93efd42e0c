#pragma once
// The one place deepid includes Eigen.
#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>  // symmetric eigensolver (PCA)
#include <Eigen/QR>           // Householder QR (randomised PCA)

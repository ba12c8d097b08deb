//! Route matching: endpoint paths, built-in endpoints, 404/405 answers and redirects.

// Package eventcost holds the per-event cost benchmarks of make bench:
// CPU time and allocations per deploy decision through the deployer's
// Lambda handler against the in-process sandbox, next to two baselines
// measured the same way (a no-op handler invoke and one DescribeServices
// round trip).
package eventcost

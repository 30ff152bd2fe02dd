//go:build !unix

package main

// descriptorLimit is unknown here: connections are not limited.
func descriptorLimit() uint64 { return 0 }

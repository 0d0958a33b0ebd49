//go:build race

package feeds

// raceEnabled reports whether the race detector slows the tests down.
const raceEnabled = true

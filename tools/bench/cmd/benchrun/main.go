// Command benchrun is make bench's driver: it measures the binaries make
// bench built and prints the tables BENCHMARKS.md quotes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/deckhand-ecs/deckhand/tools/bench/report"
)

func main() {
	dir := flag.String("dir", "dist/bench", "where make bench put the binaries")
	fns := flag.String("functions", "deployer runner tracker reconciler", "functions whose arm64 size to report")
	launches := flag.Int("launches", 41, "cold starts per binary (alternating; medians)")
	deploys := flag.Int("deploys", 10, "deploys per tool in the CLI comparison")
	before := flag.String("before", "", "a deployer binary built from an earlier commit, measured beside the current one (push to UpdateService)")
	flag.Parse()
	err := report.Run(context.Background(), report.Options{Dir: *dir, Functions: strings.Fields(*fns), Launches: *launches, Deploys: *deploys, Before: *before}, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

package main

import (
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// printServiceEvents prints each service's recent ECS events, newest
// first, under the services' table.
func (a *app) printServiceEvents(st *cli.Status, now time.Time) {
	var any bool
	for _, s := range st.Services {
		any = any || len(s.Events) > 0
	}
	if !any {
		return
	}
	fmt.Fprintln(a.stdout)
	tw := table(a.stdout)
	fmt.Fprintln(tw, "BINDING\tEVENT AT\tECS SERVICE EVENT (newest first)")
	for _, s := range st.Services {
		for _, ev := range s.Events {
			fmt.Fprintf(tw, "%s\t%s (%s)\t%s\n", s.Binding, ev.At.UTC().Format("2006-01-02 15:04:05"), ago(ev.At, now), ev.Message)
		}
	}
	tw.Flush()
}

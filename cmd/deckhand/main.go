// Command deckhand is Deckhand's CLI: validate, render, diff, deploy,
// rollback, hold, release, status, history and run against AWS or the local
// sandbox, with the same engines the Lambda functions run.
//
// Exit codes: 0 ok; 1 failure, or a verdict that is not SUCCEEDED; 2 usage;
// 3 not found.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

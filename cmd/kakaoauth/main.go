// Command kakaoauth is the project's one CLI:
//
//	kakaoauth local        run the whole stack on this machine (make run)
//	kakaoauth fake-kakao   run only the Kakao double
//	kakaoauth login        log in through the endpoint and verify the ID token
//	kakaoauth audit        auditor queries over the tables
//	kakaoauth smoke        check a deployed stack
//	kakaoauth tryit        the try-it page against a deployed stack
//	kakaoauth admin        operators: an account's state; unlink, re-link, delete
//	kakaoauth bench        load-test a login endpoint and check the invariants
//	kakaoauth pool         attach kakaoauth's triggers to a pool it does not own, or detach them
//	kakaoauth deploy       check every parameter and the region, then sam build and sam deploy
//	kakaoauth version      the version of this binary
//
// Each subcommand lives in its own file with a Main struct (Run/Close).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		// -h asked for the usage, which was printed: that is success.
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kakaoauth:", err)
		// A command that ran but found a failure (bench's checks) says
		// so with its own status; usage and other errors are 2.
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("which command?")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stderr)
		return flag.ErrHelp
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kakaoauth <command> [flags]   (kakaoauth <command> -h: its flags)\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

// envOr is a flag default taken from the environment.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The CLI's one vocabulary: every subcommand names the same thing the same
// way (docs/operations.md lists them).
const (
	flagAPIURL      = "api-url"      // the login API, default the local stack's
	flagEndpointURL = "endpoint-url" // an AWS endpoint, e.g. the local moto
	flagKakaoURL    = "kakao-url"    // the Kakao double's control API
)

// cliFlags is a subcommand's flags. Old names of renamed flags stay for one
// release as hidden aliases that say what they are now; -h prints only the
// current names and exits 0; a bad flag is one line, not the whole usage.
type cliFlags struct {
	*flag.FlagSet
	stderr io.Writer
	usage  string // before the flag list; "" for "usage: kakaoauth <name> [flags]"
	hidden map[string]bool
}

func newFlags(name string, stderr io.Writer, usage string) *cliFlags {
	f := &cliFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr, usage: usage, hidden: map[string]bool{}}
	f.SetOutput(io.Discard) // parse errors are returned, and -h prints below
	f.Usage = func() {}
	return f
}

// alias registers old as a hidden spelling of the flag now named current.
func (f *cliFlags) alias(old, current string) {
	target := f.Lookup(current)
	if target == nil {
		panic("alias of unknown flag " + current)
	}
	f.Var(&renamed{Value: target.Value, name: f.Name(), old: old, current: current, w: f.stderr}, old, "")
	f.hidden[old] = true
}

// parse parses args. -h prints the usage and returns flag.ErrHelp (exit
// 0); a bad flag returns one line that says where the flags are listed.
func (f *cliFlags) parse(args []string) error {
	err := f.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printUsage()
		return err
	case err != nil:
		return fmt.Errorf("%s: %w (kakaoauth %s -h lists the flags)", f.Name(), err, f.Name())
	}
	return nil
}

// parseNoArgs is parse for a command that takes no arguments.
func (f *cliFlags) parseNoArgs(args []string) error {
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (kakaoauth %s -h lists the flags)", f.Name(), f.Arg(0), f.Name())
	}
	return nil
}

func (f *cliFlags) printUsage() {
	usage := f.usage
	if usage == "" {
		usage = "usage: kakaoauth " + f.Name() + " [flags]\n\nflags:\n"
	}
	fmt.Fprint(f.stderr, usage)
	visible := flag.NewFlagSet(f.Name(), flag.ContinueOnError)
	visible.SetOutput(f.stderr)
	f.VisitAll(func(fl *flag.Flag) {
		if !f.hidden[fl.Name] {
			visible.Var(fl.Value, fl.Name, fl.Usage)
			visible.Lookup(fl.Name).DefValue = fl.DefValue
		}
	})
	visible.PrintDefaults()
}

// renamed is an old flag name: it sets the current flag and says so.
type renamed struct {
	flag.Value
	name, old, current string
	w                  io.Writer
}

func (r *renamed) Set(s string) error {
	fmt.Fprintf(r.w, "kakaoauth %s: -%s is now -%s; the old name goes away in a later release\n", r.name, r.old, r.current)
	return r.Value.Set(s)
}

func (r *renamed) IsBoolFlag() bool {
	b, ok := r.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// outputFormat is how a command prints rows: a table that fits 100
// columns, the same table with every column whole (-wide), JSON (-json) or,
// where offered, CSV (-csv). The old -output table|json|csv sets it too.
type outputFormat struct {
	format  string
	allowed []string
}

func (o *outputFormat) register(f *cliFlags, formats ...string) {
	o.format, o.allowed = "table", append([]string{"table"}, formats...)
	for _, name := range formats {
		help := map[string]string{
			"wide": "print every column whole (the table fits 100 columns otherwise)",
			"json": "print JSON, every field whole",
			"csv":  "print CSV with a header line (cells a spreadsheet would run are prefixed with ')",
		}[name]
		f.BoolFunc(name, help, func(v string) error {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return err
			}
			if o.format = "table"; on {
				o.format = name
			}
			return nil
		})
	}
	f.Func("output", "", func(v string) error {
		now := "-" + v
		if v == "table" {
			now = "the default"
		}
		fmt.Fprintf(f.stderr, "kakaoauth %s: -output %s is now %s; -output goes away in a later release\n", f.Name(), v, now)
		for _, a := range o.allowed {
			if v == a {
				o.format = v
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(o.allowed, ", "))
	})
	f.hidden["output"] = true
}

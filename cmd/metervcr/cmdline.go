package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag ends the command lines that shell completion sends;
// urfave/cli removes it when it is the last argument.
const completionFlag = "--generate-bash-completion"

// interspersed returns args, a command line with the program name first,
// with every command's flags moved before its positional arguments, which
// follow a "--". urfave/cli parses flags with Go's flag package, which
// stops at the first positional argument: without this,
// "metervcr replay x.yaml --strict" would take --strict for a second path.
// A flag that takes a value takes the next argument, whatever it is, as
// Go's flag package does; after "--" every argument is positional. An
// unknown command or flag, or a flag without its value, is a usage error
// naming the closest known one. "help COMMAND..." becomes
// "COMMAND... --help", at any depth. Completion requests pass unchanged:
// their last word is still being typed.
func interspersed(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 || args[len(args)-1] == completionFlag {
		return args, nil
	}
	rest := args[1:]
	if len(rest) > 1 && rest[0] == helpName {
		rest = append(rest[1:len(rest):len(rest)], "--help")
	}
	rest, err := permute(app.Name, app.Flags, app.Commands, rest)
	if err != nil {
		return nil, err
	}
	return append([]string{args[0]}, rest...), nil
}

// permute reorders the arguments of the command named path, whose flags
// and subcommands are given. At a level with subcommands the first
// positional argument names one, and the rest of the line is its own.
func permute(path string, flags []cli.Flag, commands []*cli.Command, args []string) ([]string, error) {
	var out, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(commands) > 0 && !isFlag(a) {
			cmd := command(commands, a)
			if cmd == nil {
				return nil, unknownCommand(path, a, commands)
			}
			sub, err := permute(path+" "+cmd.Name, commandFlags(cmd), cmd.Subcommands, args[i+1:])
			return append(append(out, a), sub...), err
		}
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !isFlag(a) {
			positional = append(positional, a)
			continue
		}
		typed, _, hasValue := strings.Cut(a, "=")
		name := strings.TrimPrefix(typed[1:], "-")
		f := lookupFlag(flags, name)
		if f == nil {
			return nil, unknownFlag(path, typed, name, flags)
		}
		out = append(out, a)
		if hasValue || !takesValue(f) {
			continue
		}
		if i+1 == len(args) {
			return nil, usageError("%s needs a value\n%s", a, helpHint(path))
		}
		i++
		out = append(out, args[i])
	}
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out, nil
}

// isFlag reports whether a command-line word is a flag rather than a
// positional argument: it starts with a dash and is longer than one; a lone
// "-" conventionally names standard input.
func isFlag(a string) bool {
	return len(a) > 1 && a[0] == '-'
}

// commandFlags returns the flags cmd accepts: its own and, unless it hides
// it, the help flag urfave/cli adds when the command runs.
func commandFlags(cmd *cli.Command) []cli.Flag {
	if cmd.HideHelp || cli.HelpFlag == nil {
		return cmd.Flags
	}
	return append(cmd.Flags[:len(cmd.Flags):len(cmd.Flags)], cli.HelpFlag)
}

// command returns the command of commands called name, or nil.
func command(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// lookupFlag returns the flag of flags called name, or nil.
func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// takesValue reports whether f needs a value (every kind but bool does).
func takesValue(f cli.Flag) bool {
	if v, ok := f.(cli.DocGenerationFlag); ok {
		return v.TakesValue()
	}
	return true
}

// unknownCommand is the usage error for a command that path does not have.
func unknownCommand(path, name string, commands []*cli.Command) error {
	var names []string
	for _, c := range commands {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return usageError("unknown command %q%s%s\n%s", name, forCommand(path), didYouMean(closest(name, names)), helpHint(path))
}

// unknownFlag is the usage error for a flag, typed as typed (without its
// value) and called name, that the command path does not take.
func unknownFlag(path, typed, name string, flags []cli.Flag) error {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	meant := closest(name, names)
	if meant != "" {
		meant = dashed(meant)
	}
	return usageError("unknown flag %s%s%s\n%s", typed, forCommand(path), didYouMean(meant), helpHint(path))
}

// forCommand returns " for replay" for the command path "metervcr replay",
// and "" for metervcr itself.
func forCommand(path string) string {
	if sub := strings.TrimPrefix(path, cliName+" "); sub != path {
		return " for " + sub
	}
	return ""
}

// didYouMean returns "; did you mean meant?", or "" when meant is "".
func didYouMean(meant string) string {
	if meant == "" {
		return ""
	}
	return "; did you mean " + meant + "?"
}

// dashed returns a flag name as people type it: -o, --listen.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// helpHint is the line that tells people how to see the usage of the
// command path ("metervcr" or "metervcr replay", say).
func helpHint(path string) string {
	sub := strings.TrimPrefix(path, cliName+" ")
	if sub == path {
		return "for the list of commands, run: " + cliName + " " + helpName
	}
	return fmt.Sprintf("for the usage of %s, run: %s %s %s", sub, cliName, helpName, sub)
}

// closest returns the candidate closest to typed, or "" when none is
// close: within an edit distance of a third of the candidate's length, so
// a slip of a letter or two finds the word meant, and a word of two
// letters is never guessed.
func closest(typed string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(typed, c)
		if 3*d <= len(c) && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance returns the optimal string alignment distance between a and
// b: the insertions, deletions, substitutions and swaps of adjacent
// letters that turn one into the other, the slips typing makes.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// bashCompletion completes metervcr's commands and flags in bash by asking
// metervcr itself (urfave/cli's --generate-bash-completion). Unlike the
// script urfave/cli ships, it needs no bash-completion package.
const bashCompletion = `# bash completion for metervcr; load with: source <(metervcr completion bash)
_metervcr_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _metervcr_complete metervcr
`

// zshCompletion does the same for zsh, after urfave/cli's zsh_autocomplete.
const zshCompletion = `#compdef metervcr
# zsh completion for metervcr; load with: source <(metervcr completion zsh)
_metervcr_complete() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _metervcr_complete metervcr
`

func completionCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script for bash, zsh or fish",
		UsageText: "metervcr completion bash|zsh|fish",
		Description: "Completes commands and flags. Load it in the current shell, or add the line to your shell's rc file:\n" +
			"  bash:  source <(metervcr completion bash)\n" +
			"  zsh:   source <(metervcr completion zsh)      (after compinit)\n" +
			"  fish:  metervcr completion fish | source",
		Action: func(c *cli.Context) error {
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := io.WriteString(stdout, bashCompletion)
				return err
			case "zsh":
				_, err := io.WriteString(stdout, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("building fish completion: %w", err)
				}
				_, err = io.WriteString(stdout, script)
				return err
			default:
				return usageError("completion: unknown shell %q; run: metervcr completion bash, zsh or fish", shell)
			}
		},
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	tests := []struct{ shell, want string }{
		{"bash", "complete -o bashdefault -o default -F _metervcr_complete metervcr"},
		{"zsh", "compdef _metervcr_complete metervcr"},
		{"fish", "complete -c metervcr"},
	}
	for _, tt := range tests {
		code, out, stderr := runApp(t, "completion", tt.shell)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("completion %s: exit %d, stderr %q; stdout lacks %q:\n%s", tt.shell, code, stderr, tt.want, out)
		}
	}
	if code, _, stderr := runApp(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(stderr, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, stderr %q; want 2 and the shells it knows", code, stderr)
	}
}

// TestBashCompletionCompletes loads the bash script as the README says and
// asks it to complete a command and a flag, with the built binary on PATH.
func TestBashCompletionCompletes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		words string // the command line so far; the last word is completed
		want  []string
	}{
		{"metervcr re", []string{"record", "replay"}},
		{"metervcr replay --log", []string{"--log-format", "--log-level"}},
		{"metervcr conv", []string{"convert"}},
	}
	for _, tt := range tests {
		script := `source <(metervcr completion bash)
COMP_WORDS=(` + tt.words + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_metervcr_complete
printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash completion of %q: %v\n%s", tt.words, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tt.want {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+w+" ") {
				t.Errorf("completing %q offers %v, want %s among them", tt.words, got, w)
			}
		}
	}
}

package proxy

import (
	"fmt"
	"strings"
	"sync"
)

// problem says why a request was not served from the cassette: a miss,
// or a refusal by the AWS checks or for want of credentials. Only those
// paths make one; a hit carries none.
type problem struct {
	miss   bool   // counted as a miss; otherwise as a refusal
	code   string // the error code the client got
	reason string // why, in words; the same request gets the same reason
	// detail follows reason in the log and the summary without telling
	// requests apart (the clock at the time, for instance).
	detail  string
	relax   string // the setting that lets such requests through, "" when none
	closest int    // the closest recording of a miss, -1 when none
}

// Problem is one distinct reason why requests were not served from the
// cassette, with the number of requests it stopped.
type Problem struct {
	Operation string
	// Refused is set for a request that metervcr refused (an AWS check
	// failed, or it had no credentials to record it); otherwise the
	// request matched no recording.
	Refused bool
	Code    string // the error code the client got
	Reason  string // why, as the first such request was told
	Relax   string // the setting that lets such requests through, "" when none
	Count   int
}

// maxProblems bounds the distinct problems a run remembers; requests past
// it are counted, not listed, so that a client sending endless different
// requests cannot grow the server without limit.
const maxProblems = 100

// problems counts a run's misses and refusals, one entry per distinct
// operation and reason. It is touched only on those paths.
type problems struct {
	mu       sync.Mutex
	misses   []string // operation of each miss, in arrival order
	refused  []string // operation of each refusal, in arrival order
	seen     map[problemKey]int
	list     []Problem
	unlisted int // requests whose problem came after maxProblems others
}

type problemKey struct{ op, code, reason string }

// add counts a request of operation op stopped by p and returns how many
// requests p's kind has stopped so far, this one included: 1 the first
// time, 0 when the run has more distinct problems than it lists.
func (ps *problems) add(op string, p *problem) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p.miss {
		ps.misses = append(ps.misses, op)
	} else {
		ps.refused = append(ps.refused, op)
	}
	k := problemKey{op, p.code, p.reason}
	if i, ok := ps.seen[k]; ok {
		ps.list[i].Count++
		return ps.list[i].Count
	}
	if len(ps.list) >= maxProblems {
		ps.unlisted++
		return 0
	}
	if ps.seen == nil {
		ps.seen = map[problemKey]int{}
	}
	ps.seen[k] = len(ps.list)
	ps.list = append(ps.list, Problem{Operation: op, Refused: !p.miss, Code: p.code, Reason: p.reason + p.detail, Relax: p.relax, Count: 1})
	return 1
}

// fill copies the counts into sum.
func (ps *problems) fill(sum *Summary) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sum.Misses = append(sum.Misses, ps.misses...)
	sum.Refused = append(sum.Refused, ps.refused...)
	sum.Problems = append(sum.Problems, ps.list...)
	sum.Unlisted = ps.unlisted
}

// String writes the problem on one line for people, as the summary lists
// it.
func (p Problem) String() string {
	kind := "missed"
	if p.Refused {
		kind = "refused"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %d time(s): ", p.Operation, kind, p.Count)
	if p.Refused {
		b.WriteString(p.Code + ": ")
	}
	b.WriteString(p.Reason)
	if p.Relax != "" {
		b.WriteString("; to let such calls through: " + p.Relax)
	}
	return b.String()
}

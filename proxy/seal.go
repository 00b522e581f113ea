package proxy

import "github.com/metervcr/metervcr/cassettes"

// seal redacts an exchange before it is written, and reports whether it
// may be written: recording fails closed. Values that the scanner's
// patterns caught but no rule names (a credential echoed in an error
// message, a new kind of token) are redacted too, and logged so that
// someone adds a rule. An exchange that still looks like it holds a secret
// after redaction is not written, with a loud log line naming the place;
// its client still gets the answer, since the call reached AWS and may
// have metered usage.
func (s *Server) seal(in *cassettes.Interaction, op string) bool {
	caught, err := s.redactor.Seal(in)
	for _, f := range caught {
		s.log.Warn("redacted a value that no redaction rule names; add one with --redact-field or --redact-header if this place always holds one",
			"op", op, "where", f.Where, "what", f.What)
	}
	if err != nil {
		s.log.Error("NOT RECORDED: the exchange still holds a secret after redaction, so it was not written; the client got its answer",
			"op", op, "error", err)
		return false
	}
	return true
}

package audit

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Column caps of the table (AWS product codes have 25 characters): longer
// values are printed whole and push their line past the column, so that
// nothing is cut from an audit.
const (
	productWidth   = 25
	customerWidth  = 16
	dimensionWidth = 16
)

// WriteTable writes rep for people: per cassette, one line per
// interaction and two per usage record (what was sent, then what AWS
// answered), then the totals. Usual values fit in 80 columns.
func (rep *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i, c := range rep.Cassettes {
		if i > 0 {
			bw.WriteString("\n")
		}
		writeCassetteTable(bw, c)
	}
	bw.WriteString("\n")
	if len(rep.Totals) == 0 {
		bw.WriteString("No usage was metered.\n")
		return bw.Flush()
	}
	qw := len("QUANTITY")
	for _, t := range rep.Totals {
		qw = max(qw, len(strconv.FormatInt(t.Quantity, 10)))
	}
	for _, h := range rep.Hours {
		qw = max(qw, len(strconv.FormatInt(h.Quantity, 10)))
	}
	bw.WriteString("Metered usage (records with result Success)\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  PRODUCT\tDIMENSION\tCUSTOMER\t%*s\n", qw, "QUANTITY")
	for _, t := range rep.Totals {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%*d\n", t.ProductCode, t.Dimension, cmp.Or(t.CustomerIdentifier, "-"), qw, t.Quantity)
	}
	tw.Flush()
	bw.WriteString("\nMetered usage per hour (UTC), the unit MeterUsage de-duplicates by\n")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  HOUR\tPRODUCT\tDIMENSION\t%*s\n", qw, "QUANTITY")
	for _, h := range rep.Hours {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%*d\n", h.Hour, h.ProductCode, h.Dimension, qw, h.Quantity)
	}
	tw.Flush()
	return bw.Flush()
}

func writeCassetteTable(w *bufio.Writer, c CassetteReport) {
	records, metered := 0, 0
	pw, cw, dw, qw := 1, 1, 1, 1
	for _, in := range c.Interactions {
		for _, r := range in.Records {
			records++
			if r.Result == ResultSuccess {
				metered++
			}
			pw = max(pw, min(len(r.ProductCode), productWidth))
			cw = max(cw, min(len(r.CustomerIdentifier), customerWidth))
			dw = max(dw, min(len(r.Dimension), dimensionWidth))
			qw = max(qw, len(strconv.FormatInt(r.Quantity, 10)))
		}
	}
	fmt.Fprintf(w, "%s: %s, %s, %d metered\n", c.Path, plural(len(c.Interactions), "interaction"), plural(records, "usage record"), metered)
	for _, in := range c.Interactions {
		status := strconv.Itoa(in.Status)
		if in.Error != "" {
			status += " " + in.Error
		}
		fmt.Fprintf(w, "%4d  %-16s %s\n", in.Index, in.Operation, status)
		if in.detail != "" {
			fmt.Fprintf(w, "      %s\n", in.detail)
		}
		for _, r := range in.Records {
			line := fmt.Sprintf("      %-*s  %-*s  %-*s  %*d", pw, cmp.Or(r.ProductCode, "-"), cw, cmp.Or(r.CustomerIdentifier, "-"),
				dw, cmp.Or(r.Dimension, "-"), qw, r.Quantity)
			w.WriteString(strings.TrimRight(line, " ") + "\n")
			answer := strings.TrimSpace(strings.Join([]string{cmp.Or(r.Timestamp, "-"), r.Result, r.MeteringRecordID}, "  "))
			fmt.Fprintf(w, "        %s\n", answer)
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// WriteJSON writes rep as one indented JSON document.
func (rep *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// csvHeader names the columns of WriteCSV.
var csvHeader = []string{"path", "index", "operation", "status", "error", "productCode", "customerIdentifier",
	"dimension", "quantity", "timestamp", "result", "meteringRecordId"}

// WriteCSV writes one row per usage record, and one with empty record
// columns for an interaction that carries none, for spreadsheets.
func (rep *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader) // errors surface in cw.Error below
	for _, c := range rep.Cassettes {
		for _, in := range c.Interactions {
			head := []string{c.Path, strconv.Itoa(in.Index), in.Operation, strconv.Itoa(in.Status), in.Error}
			if len(in.Records) == 0 {
				cw.Write(append(head, "", "", "", "", "", "", ""))
			}
			for _, r := range in.Records {
				cw.Write(append(append([]string(nil), head...), r.ProductCode, r.CustomerIdentifier, r.Dimension,
					strconv.FormatInt(r.Quantity, 10), r.Timestamp, r.Result, r.MeteringRecordID))
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing csv: %w", err)
	}
	return nil
}

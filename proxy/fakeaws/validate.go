package fakeaws

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/metervcr/metervcr/metering"
)

// Constraints of the API model (botocore meteringmarketplace 2016-01-14).
// The patterns are printed in messages as the model
// spells them.
const (
	productCodePattern = `^[-a-zA-Z0-9/=:_.@]*$`
	tagPattern         = `^[a-zA-Z0-9+ -=._:\/@]+$`
	accountIDPattern   = `^[0-9]+$`
	licenseArnPattern  = `^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$`
	nonEmptyPattern    = `\S+`

	maxInt32          = math.MaxInt32
	maxUsageRecords   = 25
	maxAllocations    = 2500
	maxTags           = 5
	maxStringLength   = 255
	maxTagKeyLength   = 100
	maxTagValueLength = 256
	maxClientToken    = 64
)

var (
	productCodeRE = regexp.MustCompile(productCodePattern)
	tagRE         = regexp.MustCompile(tagPattern)
	accountIDRE   = regexp.MustCompile(accountIDPattern)
	// RE2 allows no repeat count above 1000, so the last segment's limit
	// of 1024 characters is checked apart in validLicenseArn.
	licenseArnRE = regexp.MustCompile(strings.Replace(licenseArnPattern, "{0,1023}$", "*$", 1))
	// The model's pattern must match the whole value, as Java's matches() does.
	nonEmptyRE = regexp.MustCompile(`^(?:` + nonEmptyPattern + `)$`)
)

// violations collects constraint failures in the words AWS uses, each for a
// member path such as usageRecords.1.member.dimension: lower camel case
// member names, lists indexed from 1.
type violations []string

func (v *violations) add(path, value, constraint string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

// err returns the ValidationException for the collected failures, or nil.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return badRequest(metering.ErrValidation, "1 validation error detected: %s", v[0])
	default:
		return badRequest(metering.ErrValidation, "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
	}
}

// required reports whether the member is present, and records its absence.
func (v *violations) required(path string, present bool) bool {
	if !present {
		v.add(path, "null", "not be null")
	}
	return present
}

// validLicenseArn reports whether s matches licenseArnPattern.
func validLicenseArn(s string) bool {
	if !licenseArnRE.MatchString(s) {
		return false
	}
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && len(parts[5]) <= 1024
}

// text checks an optional string member's length and its pattern, which
// match reports whether it fits; match may be nil.
func (v *violations) text(path string, s *string, minLen, maxLen int, match func(string) bool, pattern string) {
	if s == nil {
		return
	}
	quoted := "'" + *s + "'"
	n := utf8.RuneCountInString(*s)
	switch {
	case n < minLen:
		v.add(path, quoted, fmt.Sprintf("have length greater than or equal to %d", minLen))
	case n > maxLen:
		v.add(path, quoted, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
	if match != nil && !match(*s) {
		v.add(path, quoted, "satisfy regular expression pattern: "+pattern)
	}
}

// number checks an optional integer member's range.
func (v *violations) number(path string, n *int64, lo, hi int64) {
	if n == nil {
		return
	}
	quoted := fmt.Sprintf("'%d'", *n)
	switch {
	case *n < lo:
		v.add(path, quoted, fmt.Sprintf("have value greater than or equal to %d", lo))
	case *n > hi:
		v.add(path, quoted, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

// count checks a list member's length, when it is present.
func (v *violations) count(path string, n int, present bool, lo, hi int) {
	if !present {
		return
	}
	value := "'[...]'"
	if n == 0 {
		value = "'[]'"
	}
	switch {
	case n < lo:
		v.add(path, value, fmt.Sprintf("have length greater than or equal to %d", lo))
	case n > hi:
		v.add(path, value, fmt.Sprintf("have length less than or equal to %d", hi))
	}
}

// tag is a UsageAllocation tag.
type tag struct{ Key, Value *string }

// allocation is a UsageAllocation.
type allocation struct {
	AllocatedUsageQuantity *int64
	Tags                   []tag `json:",omitempty"`
	hasTags                bool
}

// decodeAllocations reads a UsageAllocations member.
func decodeAllocations(d *decoder, m members, name string) ([]allocation, bool) {
	items, present := d.list(m, name)
	out := make([]allocation, 0, len(items))
	for _, item := range items {
		am := d.object(item, name)
		a := allocation{AllocatedUsageQuantity: d.integer(am, "AllocatedUsageQuantity")}
		tags, hasTags := d.list(am, "Tags")
		a.hasTags = hasTags
		for _, t := range tags {
			tm := d.object(t, "Tags")
			a.Tags = append(a.Tags, tag{Key: d.str(tm, "Key"), Value: d.str(tm, "Value")})
		}
		out = append(out, a)
	}
	return out, present
}

// allocations checks UsageAllocations against the model: 1..2500
// allocations, each with a quantity and 1..5 well-formed tags.
func (v *violations) allocations(path string, allocs []allocation, present bool) {
	v.count(path, len(allocs), present, 1, maxAllocations)
	for i, a := range allocs {
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		if v.required(p+".allocatedUsageQuantity", a.AllocatedUsageQuantity != nil) {
			v.number(p+".allocatedUsageQuantity", a.AllocatedUsageQuantity, 0, maxInt32)
		}
		v.count(p+".tags", len(a.Tags), a.hasTags, 1, maxTags)
		for j, t := range a.Tags {
			tp := fmt.Sprintf("%s.tags.%d.member", p, j+1)
			if v.required(tp+".key", t.Key != nil) {
				v.text(tp+".key", t.Key, 1, maxTagKeyLength, tagRE.MatchString, tagPattern)
			}
			if v.required(tp+".value", t.Value != nil) {
				v.text(tp+".value", t.Value, 1, maxTagValueLength, tagRE.MatchString, tagPattern)
			}
		}
	}
}

// checkAllocations applies the service's rules beyond the model: the
// allocated quantities add up to the usage quantity, a tag key appears once
// per allocation, and no two allocations have the same tag set.
func checkAllocations(allocs []allocation, present bool, quantity int64) error {
	if !present {
		return nil
	}
	var sum int64
	sets := make(map[string]bool)
	for _, a := range allocs {
		sum += *a.AllocatedUsageQuantity
		keys := make(map[string]bool)
		var set []string
		for _, t := range a.Tags {
			if keys[*t.Key] {
				return badRequest(metering.ErrInvalidTag, "Tag key %s appears more than once in a usage allocation.", *t.Key)
			}
			keys[*t.Key] = true
			set = append(set, *t.Key+"="+*t.Value)
		}
		key := strings.Join(slices.Sorted(slices.Values(set)), "\x00")
		if sets[key] {
			return badRequest(metering.ErrInvalidUsageAllocations, "Usage allocations must have unique tag sets.")
		}
		sets[key] = true
	}
	if sum != quantity {
		return badRequest(metering.ErrInvalidUsageAllocations,
			"Sum of allocated usage quantities (%d) is not equal to the usage quantity (%d).", sum, quantity)
	}
	return nil
}

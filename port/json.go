package port

import (
	"encoding/json"
	"strconv"
)

// A Result's JSON form (netduel.port/v1) names its warnings by code:
// "warnings": ["ephemeral", "race"]. The messages and advice appear once per
// document, in its top-level warnings (report.PortCheck), not once per port,
// protocol and address: a full-range check has half a million results.

// MarshalJSON writes r as one JSON object on one line.
func (r Result) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil), nil
}

// AppendJSON appends r's JSON object (as MarshalJSON writes it) to b, without
// reflection: the writers of large check documents call it half a million
// times.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = r.AppendJSONFields(b)
	return append(b, '}')
}

// AppendJSONFields appends r's JSON members without the braces, so that a
// writer can put its own members first (an NDJSON event name).
func (r *Result) AppendJSONFields(b []byte) []byte {
	b = append(b, `"port":`...)
	b = strconv.AppendInt(b, int64(r.Port), 10)
	b = appendMember(b, "proto", string(r.Proto))
	b = appendMember(b, "family", string(r.Family))
	b = appendMember(b, "address", r.Address)
	b = appendMember(b, "state", string(r.State))
	b = appendMember(b, "error", r.Error)
	b = append(b, `,"inferred":`...)
	b = strconv.AppendBool(b, r.Inferred)
	b = append(b, `,"owner":`...)
	if o := r.Owner; o != nil {
		b = append(b, `{"pid":`...)
		b = strconv.AppendInt(b, int64(o.PID), 10)
		b = appendMember(b, "name", o.Name)
		b = appendMember(b, "user", o.User)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	b = appendMember(b, "owner_note", r.OwnerNote)
	b = appendMember(b, "socket_state", r.SocketState)
	b = appendMember(b, "service", r.Service)
	b = append(b, `,"warnings":[`...)
	for i, w := range r.Warnings {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, w.Code)
	}
	return append(b, ']')
}

// UnmarshalJSON reads the form MarshalJSON writes; warnings get their codes
// only.
func (r *Result) UnmarshalJSON(data []byte) error {
	type plain Result // no methods: no recursion
	var v struct {
		plain
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = Result(v.plain)
	r.Warnings = nil
	for _, c := range v.Warnings {
		r.Warnings = append(r.Warnings, Warning{Code: c})
	}
	return nil
}

// appendMember appends `,"key":"value"`.
func appendMember(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return AppendJSONString(b, value)
}

// AppendJSONString appends s as a JSON string. Printable ASCII is copied as it
// is; anything else goes through encoding/json, which escapes it.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

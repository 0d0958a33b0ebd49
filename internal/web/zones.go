package web

import (
	"slices"
	"sync"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/subscription"
)

// commonZones are the time zones the forms offer; any other valid IANA
// name is accepted too (the subscribe page's script may pick it).
var commonZones = []string{
	"UTC",
	"Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi",
	"America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Chicago",
	"America/Denver", "America/Halifax", "America/Lima", "America/Los_Angeles", "America/Mexico_City",
	"America/New_York", "America/Phoenix", "America/Santiago", "America/Sao_Paulo", "America/St_Johns",
	"America/Toronto", "America/Vancouver",
	"Asia/Bangkok", "Asia/Dhaka", "Asia/Dubai", "Asia/Ho_Chi_Minh", "Asia/Hong_Kong", "Asia/Jakarta",
	"Asia/Jerusalem", "Asia/Karachi", "Asia/Kathmandu", "Asia/Kolkata", "Asia/Manila", "Asia/Seoul",
	"Asia/Shanghai", "Asia/Singapore", "Asia/Taipei", "Asia/Tehran", "Asia/Tokyo",
	"Atlantic/Reykjavik",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Perth", "Australia/Sydney",
	"Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Dublin", "Europe/Helsinki",
	"Europe/Istanbul", "Europe/Kyiv", "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Moscow",
	"Europe/Paris", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Zurich",
	"Pacific/Auckland", "Pacific/Honolulu",
}

// knownZones are the common zones this machine's zone database holds.
var knownZones = sync.OnceValue(func() []string {
	out := make([]string, 0, len(commonZones))
	for _, z := range commonZones {
		if _, err := model.LoadZone(z); err == nil {
			out = append(out, z)
		}
	}
	return out
})

// option is one <option> of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// zoneOptions lists the common zones, with selected (when valid and not
// among them) added, and selected marked.
func zoneOptions(selected string) []option {
	out := make([]option, 0, len(commonZones)+1)
	if selected != "" && !slices.Contains(knownZones(), selected) && subscription.Zone(selected) == nil {
		out = append(out, option{Value: selected, Label: selected, Selected: true})
	}
	for _, z := range knownZones() {
		out = append(out, option{Value: z, Label: z, Selected: z == selected})
	}
	return out
}

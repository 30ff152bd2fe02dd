package ucwad

import (
	"errors"
	"strings"
	"testing"
)

func TestMigrationsHealth(t *testing.T) {
	embedded := []int{1, 2, 3, 5, 9}
	for _, c := range []struct {
		name    string
		applied []int
		want    string // "" for healthy, else a part of the message
	}{
		{"the same set", []int{9, 1, 5, 3, 2}, ""},
		{"a gap filled later is missing", []int{1, 2, 3, 9}, "1 migration(s) not applied, the first 5"},
		{"behind", []int{1, 2}, "3 migration(s) not applied, the first 3"},
		{"ahead", []int{1, 2, 3, 5, 9, 10}, "applied migration 10"},
		{"empty", nil, "5 migration(s) not applied, the first 1"},
	} {
		err := MigrationsHealth(c.applied, embedded)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var he *HealthError
		if !errors.As(err, &he) || he.Check != CheckMigrations || !strings.Contains(he.Message, c.want) {
			t.Errorf("%s: %v, want the migrations check failing with %q", c.name, err, c.want)
		}
	}
}

package ucwad_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

func TestSignInPolicyDefaults(t *testing.T) {
	want := ucwad.SignInPolicy{Free: 5, FirstDelay: 250 * time.Millisecond, MaxDelay: 8 * time.Second, Window: 15 * time.Minute}
	if ucwad.DefaultSignInPolicy != want {
		t.Errorf("DefaultSignInPolicy = %+v, want %+v", ucwad.DefaultSignInPolicy, want)
	}
	for _, p := range []ucwad.SignInPolicy{{}, {Free: -1, FirstDelay: -1, MaxDelay: -1, Window: -1}} {
		if got := p.WithDefaults(); got != want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", p, got, want)
		}
	}
	custom := ucwad.SignInPolicy{Free: 1, FirstDelay: time.Second, MaxDelay: time.Minute, Window: time.Hour}
	if got := custom.WithDefaults(); got != custom {
		t.Errorf("WithDefaults() = %+v, want %+v", got, custom)
	}
}

// TestSignInPolicyDelay is the documented schedule: five free failures,
// then 250 ms doubling to 8 s.
func TestSignInPolicyDelay(t *testing.T) {
	p := ucwad.SignInPolicy{}.WithDefaults()
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 0},
		{4, 0},
		{5, 250 * time.Millisecond},
		{6, 500 * time.Millisecond},
		{7, time.Second},
		{8, 2 * time.Second},
		{9, 4 * time.Second},
		{10, 8 * time.Second},
		{11, 8 * time.Second},
		{1 << 40, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.failures), func(t *testing.T) {
			if got := p.Delay(tt.failures); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestSignInPolicyDelayNoOverflow(t *testing.T) {
	const huge = time.Duration(1<<63 - 1)
	p := ucwad.SignInPolicy{Free: 1, FirstDelay: time.Nanosecond, MaxDelay: huge}.WithDefaults()
	if got := p.Delay(200); got != huge {
		t.Errorf("Delay(200) = %v, want the cap %v", got, huge)
	}
	// A cap below the first delay wins.
	p = ucwad.SignInPolicy{Free: 1, FirstDelay: time.Minute, MaxDelay: time.Second}.WithDefaults()
	if got := p.Delay(1); got != time.Second {
		t.Errorf("Delay(1) = %v, want %v", got, time.Second)
	}
}

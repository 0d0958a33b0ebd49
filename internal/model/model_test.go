package model

import "testing"

func TestOwnHour(t *testing.T) {
	tests := []struct {
		hour   int
		want   int
		wantOK bool
	}{
		{HourDefault, 0, false},
		{0, 0, true},
		{7, 7, true},
		{23, 23, true},
		{24, 0, false},
		{-5, 0, false},
	}
	for _, tt := range tests {
		sub := Subscriber{Hour: tt.hour}
		if got, ok := sub.OwnHour(); got != tt.want || ok != tt.wantOK {
			t.Errorf("Hour %d: OwnHour() = %d, %v; want %d, %v", tt.hour, got, ok, tt.want, tt.wantOK)
		}
	}
}

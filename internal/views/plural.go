package views

import "fmt"

// plural is n with noun, in the plural unless n is 1: "1 user", "3 users".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

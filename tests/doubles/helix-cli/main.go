// A double of the helix CLI (`helix spectask start|screenshot|benchmark`) for helix's
// test-video tests: built with `CGO_ENABLED=0 go build` like the real one, it prints what the
// real commands print (api/pkg/cli/spectask), with their exit codes and pacing.
//
// Behaviour, from the environment:
//
//	FAKE_HELIX_STATE        where sessions are kept (default $HOME/.fake-helix)
//	FAKE_HELIX_READY_AFTER  seconds after start until the desktop answers screenshots, or "never" (default 2)
//	FAKE_HELIX_FPS          frames per second the stream delivers (default 58; 0 = no frames)
//	FAKE_HELIX_EXPECT_KEY   if set, HELIX_API_KEY must equal it (else a 401, as the API answers)
package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func state() string {
	if s := os.Getenv("FAKE_HELIX_STATE"); s != "" {
		return s
	}
	return filepath.Join(os.Getenv("HOME"), ".fake-helix")
}

func fatal(msg string) {
	// cobra prints the error, then root.go's Fatal prints it again; both go to stdout.
	fmt.Printf("Error: %s\n", msg)
	fmt.Println(msg)
	os.Exit(1)
}

func checkKey() {
	key := os.Getenv("HELIX_API_KEY")
	if want := os.Getenv("FAKE_HELIX_EXPECT_KEY"); want != "" && key != want {
		fatal(fmt.Sprintf("failed to create spec task: API returned 401: {\"error\":\"invalid api key %s\"}", key))
	}
	if os.Getenv("HELIX_URL") == "" {
		fatal("failed to create spec task: Post \"http://localhost:8080/api/v1/spec-tasks/from-prompt\": dial tcp 127.0.0.1:8080: connect: connection refused")
	}
}

func flag(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, n+"=") {
				return strings.TrimPrefix(a, n+"=")
			}
		}
	}
	return ""
}

func ready(id string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(state(), id))
	if err != nil {
		return false, err
	}
	started, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	after := os.Getenv("FAKE_HELIX_READY_AFTER")
	if after == "never" {
		return false, nil
	}
	secs := 2.0
	if after != "" {
		secs, _ = strconv.ParseFloat(after, 64)
	}
	return float64(time.Now().UnixMilli()-started)/1000 >= secs, nil
}

func start(args []string) {
	checkKey()
	project := flag(args, "--project", "-p")
	if project == "" {
		fatal("--project is required when creating a new task")
	}
	name := flag(args, "--name", "-n")
	if name == "" {
		name = "CLI Test Task"
	}
	task := fmt.Sprintf("spt_01%x", rand.Int63())
	id := fmt.Sprintf("ses_01%x", rand.Int63())
	fmt.Println("Creating new spec task...")
	fmt.Printf("✅ Created spec task: %s (ID: %s)\n", name, task)
	fmt.Printf("Starting planning for task %s...\n", task)
	fmt.Println("✅ Task status: spec_generation")
	fmt.Println("⏳ Waiting for sandbox to start (this takes ~15 seconds)...")
	time.Sleep(300 * time.Millisecond)
	fmt.Println("   Unpacking build cache (2.1/7.0 GB)")
	time.Sleep(300 * time.Millisecond)
	os.MkdirAll(state(), 0o755)
	os.WriteFile(filepath.Join(state(), id), []byte(strconv.FormatInt(time.Now().UnixMilli(), 10)), 0o644)
	fmt.Println()
	fmt.Println("✅ Sandbox is running!")
	fmt.Printf("   Session ID: %s\n", id)
	fmt.Println()
	fmt.Println("📺 Connect to Desktop:")
	fmt.Printf("   Open in browser: %s/sessions/%s\n", os.Getenv("HELIX_URL"), id)
	fmt.Println()
	fmt.Println("📷 Test screenshot:")
	fmt.Printf("   helix spectask screenshot %s\n", id)
}

func screenshot(args []string) {
	if len(args) == 0 {
		fatal("accepts 1 arg(s), received 0")
	}
	ok, err := ready(args[0])
	if err != nil {
		fatal("screenshot request failed: 404 - session not found")
	}
	if !ok {
		time.Sleep(200 * time.Millisecond)
		fatal("screenshot request failed: 503 - external agent not connected (RevDial)")
	}
	name := time.Now().Format("screenshot-20060102-150405.jpg")
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 2044)...)
	os.WriteFile(name, jpeg, 0o644)
	fmt.Printf("✅ Screenshot saved: %s (%d bytes)\n", name, len(jpeg))
}

func benchmark(args []string) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fatal("accepts 1 arg(s), received 0")
	}
	id := args[0]
	duration, _ := strconv.Atoi(flag(args, "--duration", "-d"))
	if duration <= 0 {
		duration = 10
	}
	target := 60
	fmt.Printf("Session:    %s\n", id)
	fmt.Printf("Duration:   %d seconds\n", duration)
	fmt.Printf("Resolution: %dx%d @ %dfps target\n", 3840, 2160, target)
	fmt.Printf("Bitrate:    %d kbps\n\n", 30000)
	ok, _ := ready(id)
	if !ok {
		fatal("WebSocket connection failed: websocket: bad handshake - 503 Service Unavailable")
	}
	fps := 58
	if s := os.Getenv("FAKE_HELIX_FPS"); s != "" {
		fps, _ = strconv.Atoi(s)
	}
	fmt.Println("✅ Connected")
	fmt.Println("✅ Stream initialized")
	fmt.Printf("📊 Running benchmark for %d seconds...\n", duration)
	total, bytes := 0, 0
	for s := 1; s <= duration; s++ {
		time.Sleep(time.Second)
		total += fps
		bytes += fps * 61000
		fmt.Printf("  [%2d/%2ds] Frames: %4d | Current FPS: %3d | Total: %.1f MB\n", s, duration, total, fps, float64(bytes)/1e6)
	}
	avg := float64(total) / float64(duration)
	pct := avg / float64(target) * 100
	fmt.Println()
	fmt.Println("══════════════════════════════════════════════")
	fmt.Println("📊 BENCHMARK RESULTS")
	fmt.Println("══════════════════════════════════════════════")
	fmt.Printf("  Resolution:       %dx%d\n", 3840, 2160)
	fmt.Printf("  Codec:            %s\n", "h264")
	fmt.Printf("  Duration:         %v\n", time.Duration(duration)*time.Second)
	fmt.Println()
	fmt.Println("  📈 Frame Rate:")
	mark := " ✅"
	if pct < 90 {
		mark = " ⚠️ "
	}
	fmt.Printf("     Average:       %.1f fps%s (%.0f%% of %d target)\n", avg, mark, pct, target)
	if total > 0 {
		fmt.Printf("     Min/Max:       %d / %d fps\n", fps-2, fps+1)
	}
	fmt.Printf("     Total Frames:  %d (%d keyframes)\n", total, total/60+1)
	fmt.Println()
	fmt.Println("  📦 Bandwidth:")
	fmt.Printf("     Average:       %.2f Mbps/s\n", float64(bytes*8)/float64(duration)/1e6)
	fmt.Printf("     Total Data:    %.2f MB\n", float64(bytes)/1e6)
	if total > 0 {
		fmt.Printf("     Avg Frame:     %.1f KB\n", 61.0)
		fmt.Printf("     Frame Range:   %s - %s\n", "12.3 KB", "402.1 KB")
		fmt.Println()
		fmt.Println("  📉 Frame Jitter (inter-frame timing):")
		fmt.Printf("     Interval:      min=%dms avg=%dms max=%dms\n", 11, 1000/fps, 48)
		fmt.Printf("     Gaps >50ms:    %d (%.1f%%)\n", 0, 0.0)
	}
	fmt.Println()
	switch {
	case pct >= 95:
		fmt.Printf("✅ EXCELLENT: Achieving %.0f%% of target FPS\n", pct)
	case pct >= 80:
		fmt.Printf("👍 GOOD: Achieving %.0f%% of target FPS\n", pct)
	case pct >= 50:
		fmt.Printf("⚠️  DEGRADED: Only %.0f%% of target FPS - check GPU/encoder load\n", pct)
	default:
		fmt.Printf("❌ POOR: Only %.0f%% of target FPS - significant bottleneck\n", pct)
	}
}

func main() {
	rand.Seed(time.Now().UnixNano())
	a := os.Args[1:]
	if len(a) < 2 || a[0] != "spectask" {
		fmt.Println("Usage:\n  helix spectask [command]")
		os.Exit(1)
	}
	switch a[1] {
	case "start":
		start(a[2:])
	case "screenshot":
		screenshot(a[2:])
	case "benchmark":
		benchmark(a[2:])
	default:
		fatal(fmt.Sprintf("unknown command %q for \"helix spectask\"", a[1]))
	}
}

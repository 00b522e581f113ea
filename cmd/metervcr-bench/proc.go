package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server under test, started by the driver.
type process struct {
	proc  *os.Process
	done  chan struct{} // closed once the process has exited
	addr  string
	ready time.Duration // from exec until the port accepted a connection
	log   *os.File
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs argv (pinned to cpus by taskset when cpus is not "") with
// env added to the driver's, writing its output to logPath, and waits until
// addr accepts connections.
func start(argv []string, env []string, cpus, addr, logPath string) (*process, error) {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &process{proc: cmd.Process, done: make(chan struct{}), addr: addr, log: log}
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(p.done) }()
	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			p.ready = time.Since(begin)
			return p, nil
		}
		select {
		case <-p.done:
			log.Close()
			return nil, fmt.Errorf("server exited before listening (%v); its output is in %s", exitErr, logPath)
		case <-time.After(time.Millisecond / 4):
		}
		if time.Since(begin) > time.Minute {
			p.stop()
			return nil, fmt.Errorf("server did not listen on %s within a minute; its output is in %s", addr, logPath)
		}
	}
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *process) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.proc.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTicks = 100

// cpuTime returns the CPU time the process has used, user and system.
func (p *process) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.proc.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the line.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, errors.New("unexpected /proc stat line")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// stop ends the process: SIGTERM, then SIGKILL after five seconds.
func (p *process) stop() {
	defer p.log.Close()
	p.proc.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.proc.Kill()
		<-p.done
	}
}

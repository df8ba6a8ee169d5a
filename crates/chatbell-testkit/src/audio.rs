//! A real sound server for the tests that listen: a PulseAudio daemon of the test's own, whose
//! only output is a null sink, and a recorder of that sink's monitor. Processes under test get it
//! through `PULSE_SERVER`; ALSA's `default` device reaches it through the pulse plugin.
//!
//! A stream of silence keeps the sink running at a low latency, as a desktop's sink is while
//! anything plays: a sound reaches the monitor within tens of milliseconds, and a recording runs
//! at the wall clock's pace. Tests still look at bursts of loud audio, not at timestamps: the
//! processes under test and the recorder do not share a clock.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sink every sound reaches; recordings read its monitor.
const SINK: &str = "test";
/// Recordings' format: mono, 16 bit, at the sink's own rate (nothing resampled on the way).
const RATE: u32 = 48_000;
const MISSING: &str = "pulseaudio (Debian packages pulseaudio and pulseaudio-utils) must be installed: run `cargo xtask setup`";

/// A `pulseaudio` daemon of the test's own, its socket and state in a private folder, killed
/// when dropped.
pub struct PulseServer {
    dir: tempfile::TempDir,
    daemon: Child,
    /// `pacat` playing silence for the server's life (see the module's comment).
    silence: Option<Child>,
}

impl PulseServer {
    /// Starts the daemon and returns once its sink runs, ready to play and record (within
    /// 10 s; well under a second on an idle machine).
    pub fn start() -> PulseServer {
        // A private XDG_RUNTIME_DIR (0700, as pulseaudio requires) holds the socket; HOME too,
        // so the daemon writes its cookie and state there, not in the user's ~/.config/pulse.
        let dir = tempfile::tempdir().expect("a temporary folder for pulseaudio");
        let log = File::create(dir.path().join("pulseaudio.log")).expect("pulseaudio's log");
        let daemon = Command::new("pulseaudio")
            .args([
                // No default.pa: only the modules below, so no hardware, no D-Bus, no X11.
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--realtime=no",
                "--high-priority=no",
                "--log-target=stderr",
                // Anonymous: clients under test have HOMEs of their own, so no shared cookie.
                "--load=module-native-protocol-unix auth-anonymous=1",
                &format!("--load=module-null-sink sink_name={SINK} rate={RATE}"),
            ])
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join(".config"))
            .env_remove("PULSE_SERVER")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect(MISSING);
        // Owned at once, so that a failed start below still kills and reaps the daemon.
        let mut server = PulseServer {
            dir,
            daemon,
            silence: None,
        };
        // The socket file appears before the daemon listens on it: ask until it answers.
        let socket = server.socket();
        server.until(
            |s| s.try_pactl(&["info"]).is_ok(),
            || format!("no answer at {}", socket.display()),
        );
        // An idle null sink renders 2 s ahead, and a sound started then reaches the monitor
        // late (the first ~1.5 s after start) and cut short. A low-latency stream that never
        // ends, then a suspend and resume (which restarts the sink's clock at that latency),
        // and the sink renders in small blocks from then on.
        let silence = Command::new("pacat")
            .args([
                "--playback",
                "--raw",
                "--format=s16le",
                &format!("--rate={RATE}"),
                "--channels=1",
                // Low enough that sounds reach the monitor quickly, high enough that a busy
                // machine does not starve the sink into rendering in tiny blocks.
                "--latency-msec=50",
                "--client-name=chatbell-testkit-silence",
            ])
            .env("PULSE_SERVER", server.server())
            .stdin(File::open("/dev/zero").expect("/dev/zero"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(MISSING);
        server.silence = Some(silence);
        server.until(
            |s| !s.pactl(&["list", "short", "sink-inputs"]).trim().is_empty(),
            || "the silence stream never connected".into(),
        );
        server.pactl(&["suspend-sink", SINK, "1"]);
        server.pactl(&["suspend-sink", SINK, "0"]);
        server
    }

    /// Waits up to 10 s for `ready`; panics with `what` and the daemon's log otherwise, or as
    /// soon as the daemon exits.
    fn until(&mut self, ready: impl Fn(&Self) -> bool, what: impl Fn() -> String) {
        let this = &mut *self;
        let waited =
            crate::try_eventually_blocking("pulseaudio", Duration::from_secs(10), move || {
                if ready(this) {
                    return Ok(());
                }
                match this.daemon.try_wait().expect("pulseaudio's status") {
                    Some(status) => {
                        panic!("pulseaudio exited ({status}): {}\n{}", what(), this.log())
                    }
                    None => Err(what()),
                }
            });
        if let Err(e) = waited {
            panic!("{e}\n{}", self.log());
        }
    }

    /// Runs `pactl` against this server; returns its output, or what it said when it failed.
    fn try_pactl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", self.server())
            .output()
            .expect(MISSING);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "pactl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn pactl(&self, args: &[&str]) -> String {
        self.try_pactl(args)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log()))
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("pulse/native")
    }

    /// What the daemon said on stderr so far (warnings about running as root are expected).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pulseaudio.log")).unwrap_or_default()
    }

    /// The value for `PULSE_SERVER`.
    pub fn server(&self) -> String {
        format!("unix:{}", self.socket().display())
    }

    /// The environment that sends a process's sounds here (libpulse, and ALSA's `default`
    /// through the pulse plugin, both read `PULSE_SERVER`).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("PULSE_SERVER".into(), self.server())]
    }

    /// Starts recording the sink; returns once samples arrive, so a sound that starts after
    /// this call is in the recording.
    pub fn record(&self) -> Recording {
        let file = tempfile::NamedTempFile::new().expect("a file for the recording");
        let errors = tempfile::NamedTempFile::new().expect("a file for parec's messages");
        let child = Command::new("parec")
            .args([
                &format!("--device={SINK}.monitor"),
                "--format=s16le",
                &format!("--rate={RATE}"),
                "--channels=1",
                // Small fragments: samples reach the file within tens of milliseconds.
                "--latency-msec=20",
            ])
            .env("PULSE_SERVER", self.server())
            .stdin(Stdio::null())
            .stdout(file.reopen().expect("the recording's file"))
            .stderr(errors.reopen().expect("parec's messages"))
            .spawn()
            .expect(MISSING);
        let recording = Recording {
            child,
            file,
            errors,
        };
        // The sink never stops (the silence stream), so samples flow as soon as parec records.
        let live = recording.wait(Duration::from_secs(10), |pcm| !pcm.samples.is_empty());
        assert!(
            live.is_some(),
            "parec recorded nothing within 10 s:\n{}\npulseaudio:\n{}",
            recording.messages(),
            self.log()
        );
        recording
    }

    /// Starts playing these samples with `pacat`; stopped when the handle is dropped.
    pub fn play(&self, pcm: &Pcm) -> Playing {
        let mut child = Command::new("pacat")
            .args([
                "--playback",
                "--raw",
                "--format=s16le",
                &format!("--rate={}", pcm.rate),
                "--channels=1",
                // Room for a late refill on a busy machine (an underrun is a gap in the sound).
                "--latency-msec=100",
            ])
            .env("PULSE_SERVER", self.server())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect(MISSING);
        let bytes: Vec<u8> = pcm.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        // Dropping stdin is the end of the input: pacat then drains the stream and exits.
        let written = child.stdin.take().expect("stdin").write_all(&bytes);
        let playing = Playing { child };
        written.expect("pacat takes the samples");
        playing
    }
}

/// `pacat` playing; killed when dropped.
pub struct Playing {
    child: Child,
}

impl Playing {
    /// Waits until pacat has played everything and exited.
    pub fn finish(mut self) {
        let status = self.child.wait().expect("pacat ran");
        let mut errors = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut errors);
        }
        assert!(status.success(), "pacat failed ({status}): {errors}");
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        if let Some(silence) = &mut self.silence {
            let _ = silence.kill();
            let _ = silence.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// `parec` recording the sink into a file; killed when dropped.
pub struct Recording {
    child: Child,
    file: tempfile::NamedTempFile,
    errors: tempfile::NamedTempFile,
}

impl Recording {
    /// What parec said on stderr so far.
    fn messages(&self) -> String {
        std::fs::read_to_string(self.errors.path()).unwrap_or_default()
    }

    /// What the file holds now (parec may be mid-write: a trailing odd byte is left out).
    fn so_far(&self) -> Pcm {
        Pcm::from_file(self.file.path())
    }

    /// Waits until what was recorded so far satisfies `pred`; returns it, or `None` after
    /// `timeout`.
    pub fn wait(&self, timeout: Duration, pred: impl Fn(&Pcm) -> bool) -> Option<Pcm> {
        crate::try_eventually_blocking("the recording", timeout, || {
            let pcm = self.so_far();
            match pred(&pcm) {
                true => Ok(pcm),
                false => Err(format!("{:.2} s recorded", pcm.duration_s())),
            }
        })
        .ok()
    }

    /// Stops recording and returns what was heard.
    ///
    /// What played until now is in it: the recording runs at the wall clock's pace and lags
    /// by the sink's and parec's latencies (tens of milliseconds), so it first records 150 ms
    /// more (at most 2 s; less if the recording stalls). The caller's barrier for "everything
    /// has played" is an event of the process under test (a "played" line), not this wait.
    pub fn stop(mut self) -> Pcm {
        let margin = (0.15 * f64::from(RATE)) as usize;
        let wanted = self.so_far().samples.len() + margin;
        let deadline = Instant::now() + Duration::from_secs(2);
        let (mut size, mut since) = (0, Instant::now());
        loop {
            let len = self.so_far().samples.len();
            if len != size {
                (size, since) = (len, Instant::now());
            }
            if len >= wanted
                || since.elapsed() >= Duration::from_millis(300)
                || Instant::now() >= deadline
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(status) = self.child.try_wait().expect("parec's status") {
            panic!("parec stopped by itself ({status}):\n{}", self.messages());
        }
        // SIGINT: parec writes out what it holds and exits.
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(interrupted, "kill -INT parec failed");
        crate::eventually_blocking(
            "parec stops on SIGINT",
            Duration::from_secs(5),
            || match self.child.try_wait().expect("parec's status") {
                Some(_) => Ok(()),
                None => Err("running"),
            },
        );
        self.so_far()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Mono 16-bit samples, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub samples: Vec<i16>,
    pub rate: u32,
}

/// A run of loud audio: one sound, as a recording holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Where the burst starts in the recording, in seconds (not wall-clock time: silence is
    /// mostly not recorded).
    pub start_s: f64,
    /// From its first loud sample to its last.
    pub duration_s: f64,
    /// Its loudest sample, as a fraction of full scale (0–1).
    pub peak: f64,
}

impl Pcm {
    /// A sample is loud above 1% of full scale: far above what mixing and resampling leave in
    /// silence, below the quiet ends of Chatbell's decaying tones at low volume.
    pub const THRESHOLD: i16 = i16::MAX / 100;
    /// Quiet gaps shorter than this are inside one burst (a sine's zero crossings, a note's
    /// decay into the next).
    pub const JOIN: Duration = Duration::from_millis(30);

    /// A sine of `freq` Hz for `secs`, its peak at `amplitude` (0–1 of full scale).
    pub fn tone(freq: f64, secs: f64, amplitude: f64, rate: u32) -> Pcm {
        let count = (secs * f64::from(rate)).round() as usize;
        let samples = (0..count)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                let v = amplitude * (std::f64::consts::TAU * freq * t).sin();
                (v * f64::from(i16::MAX)).round() as i16
            })
            .collect();
        Pcm { samples, rate }
    }

    /// `secs` of digital silence.
    pub fn silence(secs: f64, rate: u32) -> Pcm {
        Pcm {
            samples: vec![0; (secs * f64::from(rate)).round() as usize],
            rate,
        }
    }

    /// This, then `next` (at the same rate).
    pub fn then(mut self, next: Pcm) -> Pcm {
        assert_eq!(self.rate, next.rate, "joining different rates");
        self.samples.extend(next.samples);
        self
    }

    fn from_file(path: &Path) -> Pcm {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .expect("the recording's file");
        let samples = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Pcm {
            samples,
            rate: RATE,
        }
    }

    fn is_loud(&self, sample: i16) -> bool {
        sample.unsigned_abs() > Self::THRESHOLD.unsigned_abs()
    }

    /// How long the recording is, in seconds of samples.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }

    /// The runs of loud samples, quiet gaps under [`Pcm::JOIN`] joined.
    pub fn bursts(&self) -> Vec<Burst> {
        let join = (Self::JOIN.as_secs_f64() * f64::from(self.rate)) as usize;
        // (first loud index, last loud index, peak magnitude)
        let mut runs: Vec<(usize, usize, u16)> = Vec::new();
        for (i, s) in self.samples.iter().enumerate() {
            if !self.is_loud(*s) {
                continue;
            }
            match runs.last_mut() {
                Some((_, last, peak)) if i - *last <= join => {
                    *last = i;
                    *peak = (*peak).max(s.unsigned_abs());
                }
                _ => runs.push((i, i, s.unsigned_abs())),
            }
        }
        let rate = f64::from(self.rate);
        runs.into_iter()
            .map(|(first, last, peak)| Burst {
                start_s: first as f64 / rate,
                duration_s: (last + 1 - first) as f64 / rate,
                peak: f64::from(peak) / f64::from(i16::MAX),
            })
            .collect()
    }

    /// Whether the last loud sample is followed by at least `quiet` of quiet ones. Silence
    /// ahead of a sound proves nothing (the sound may still be on its way): no loud sample at
    /// all is `false`.
    pub fn ends_quiet(&self, quiet: Duration) -> bool {
        let needed = (quiet.as_secs_f64() * f64::from(self.rate)) as usize;
        self.samples
            .iter()
            .rposition(|s| self.is_loud(*s))
            .is_some_and(|last| self.samples.len() - last > needed)
    }

    /// No burst at all.
    pub fn is_silent(&self) -> bool {
        self.bursts().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: u32 = 48_000;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn one_tone_is_one_burst_as_long_and_loud_as_the_tone() {
        let pcm = Pcm::silence(0.2, R)
            .then(Pcm::tone(440.0, 0.3, 0.5, R))
            .then(Pcm::silence(0.1, R));
        let bursts = pcm.bursts();
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        let b = bursts[0];
        // The sine crosses zero at its ends: within a sample or two of the tone's edges.
        assert!(close(b.start_s, 0.2, 0.001), "{b:?}");
        assert!(close(b.duration_s, 0.3, 0.002), "{b:?}");
        assert!(close(b.peak, 0.5, 0.001), "{b:?}");
        assert!(!pcm.is_silent());
    }

    #[test]
    fn two_tones_apart_are_two_bursts() {
        let pcm = Pcm::tone(880.0, 0.5, 0.3, R)
            .then(Pcm::silence(0.2, R))
            .then(Pcm::tone(660.0, 0.15, 0.8, R));
        let bursts = pcm.bursts();
        assert_eq!(bursts.len(), 2, "{bursts:?}");
        assert!(close(bursts[0].duration_s, 0.5, 0.002), "{bursts:?}");
        assert!(close(bursts[1].start_s, 0.7, 0.002), "{bursts:?}");
        assert!(close(bursts[1].duration_s, 0.15, 0.002), "{bursts:?}");
        assert!(close(bursts[1].peak, 0.8, 0.001), "{bursts:?}");
    }

    #[test]
    fn silence_and_low_level_noise_are_silent() {
        assert!(Pcm::silence(1.0, R).is_silent());
        assert!(
            Pcm {
                samples: vec![],
                rate: R
            }
            .is_silent()
        );
        // Below 1% of full scale: what a resampler leaves behind, not a sound.
        let faint = Pcm::tone(440.0, 1.0, 0.009, R);
        assert!(faint.is_silent(), "{:?}", faint.bursts());
    }

    #[test]
    fn a_gap_shorter_than_the_join_is_inside_one_burst() {
        let pcm = Pcm::tone(440.0, 0.1, 0.5, R)
            .then(Pcm::silence(0.02, R))
            .then(Pcm::tone(440.0, 0.1, 0.5, R));
        let bursts = pcm.bursts();
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        assert!(close(bursts[0].duration_s, 0.22, 0.002), "{bursts:?}");
        // Just over the join: two.
        let apart = Pcm::tone(440.0, 0.1, 0.5, R)
            .then(Pcm::silence(0.035, R))
            .then(Pcm::tone(440.0, 0.1, 0.5, R));
        assert_eq!(apart.bursts().len(), 2, "{:?}", apart.bursts());
    }

    /// The whole chain, for real: a daemon, a recording, a tone played through the socket.
    #[test]
    fn records_a_tone_played_on_a_private_pulseaudio() {
        let pulse = PulseServer::start();
        let recording = pulse.record();
        // The barrier, as a test's "played" line would be: pacat exits once it has played.
        pulse.play(&Pcm::tone(880.0, 0.3, 0.4, R)).finish();
        let bursts = recording.stop().bursts();
        assert_eq!(bursts.len(), 1, "{bursts:?}; log:\n{}", pulse.log());
        // Within 10%: on a busy machine a fragment (~10 ms) can go missing as the stream joins.
        assert!(close(bursts[0].duration_s, 0.3, 0.03), "{bursts:?}");
        assert!(close(bursts[0].peak, 0.4, 0.01), "{bursts:?}");
    }

    #[test]
    fn a_recording_with_nothing_played_is_silent() {
        let pulse = PulseServer::start();
        let pcm = pulse.record().stop();
        assert!(pcm.is_silent(), "{:?}", pcm.bursts());
    }
}

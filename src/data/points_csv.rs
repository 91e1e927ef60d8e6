//! The playground's points as CSV, both ways: `split,x1,x2,label` rows written (the training
//! points first), and a learner's own file of 2-D points read back, or refused with the reason
//! (the row and the column where it can say).
//!
//! A file needs the columns `x1`, `x2` and `label` (in any order, named in a header row);
//! `split` (`train` or `test`) is optional, and without it the page splits the points as it
//! splits its own. Labels of 0 and 1 only make a classification; any other numbers a regression.

use super::generators::DOMAIN;
use super::point::Point;

/// The most points a file may hold: the playground draws and trains on every one each frame.
pub const MAX_POINTS: usize = 5_000;

/// The points of a file, as the page takes them.
#[derive(Clone, Debug, PartialEq)]
pub struct PointsFile {
    /// With a `split` column, its training and test points; without one, every point in
    /// `train` and none in `test` (`split` is then false).
    pub train: Vec<Point>,
    pub test: Vec<Point>,
    pub split: bool,
    /// Whether the labels are values (any number) rather than classes (0 and 1 only).
    pub regression: bool,
}

/// `split,x1,x2,label`: the training points, then the test points. Each number is written as
/// the shortest text that reads back as the same f32.
pub fn write_points_csv(train: &[Point], test: &[Point]) -> String {
    let mut csv = String::from("split,x1,x2,label\n");
    for (split, points) in [("train", train), ("test", test)] {
        for point in points {
            csv.push_str(&format!(
                "{split},{},{},{}\n",
                point.x, point.y, point.label
            ));
        }
    }
    csv
}

/// The points of a CSV file, or why it is not a file of 2-D points.
pub fn read_points_csv(bytes: &[u8]) -> Result<PointsFile, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|error| format!("its first line cannot be read ({})", brief(&error)))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|field| field.eq_ignore_ascii_case(name))
    };
    let find = |name: &str| {
        column(name).ok_or_else(|| {
            format!(
                "it has no column named {name} (its first line must name the columns x1, x2 and \
                 label, and may name split)"
            )
        })
    };
    let (x1, x2, label) = (find("x1")?, find("x2")?, find("label")?);
    let split = column("split");
    let mut file = PointsFile {
        train: Vec::new(),
        test: Vec::new(),
        split: split.is_some(),
        regression: false,
    };
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record =
            record.map_err(|error| format!("line {line} cannot be read ({})", brief(&error)))?;
        if file.train.len() + file.test.len() == MAX_POINTS {
            return Err(format!(
                "it holds more than {MAX_POINTS} points, the most the playground trains on"
            ));
        }
        let number = |column: usize, name: &str| -> Result<f32, String> {
            let text = record.get(column).unwrap_or_default();
            let value: f32 = text
                .parse()
                .map_err(|_| format!("line {line}: {name} is {}, not a number", shown(text)))?;
            if !value.is_finite() {
                return Err(format!(
                    "line {line}: {name} is {}, not a finite number",
                    shown(text)
                ));
            }
            Ok(value)
        };
        let point = Point::new(
            number(x1, "x1")?,
            number(x2, "x2")?,
            number(label, "label")?,
        );
        for (value, name) in [(point.x, "x1"), (point.y, "x2")] {
            if value.abs() > DOMAIN {
                return Err(format!(
                    "line {line}: {name} is {value}, outside the plane the playground draws \
                     (-{DOMAIN} to {DOMAIN})"
                ));
            }
        }
        file.regression |= point.label != 0.0 && point.label != 1.0;
        match split.map(|column| record.get(column).unwrap_or_default()) {
            None => file.train.push(point),
            Some(text) if text.eq_ignore_ascii_case("train") => file.train.push(point),
            Some(text) if text.eq_ignore_ascii_case("test") => file.test.push(point),
            Some(text) => {
                return Err(format!(
                    "line {line}: split is {}, not train or test",
                    shown(text)
                ));
            }
        }
    }
    let total = file.train.len() + file.test.len();
    if total < 2 {
        return Err(format!(
            "it holds {total} point{}: at least two are needed, one to train on and one to test",
            if total == 1 { "" } else { "s" }
        ));
    }
    if file.train.is_empty() {
        return Err("none of its points is marked train".to_string());
    }
    Ok(file)
}

/// A field as a message quotes it: at most 20 characters.
fn shown(text: &str) -> String {
    let mut chars = text.chars();
    let start: String = chars.by_ref().take(20).collect();
    match chars.next() {
        Some(_) => format!("\"{start}…\""),
        None => format!("\"{start}\""),
    }
}

/// A CSV error in a few words (the crate's messages name byte positions).
fn brief(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not text (UTF-8)".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("it has {len} fields where the first line has {expected_len}"),
        _ => "it is not CSV".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_points_read_back_the_same() {
        let train = vec![Point::new(1.5, -2.25, 1.0), Point::new(0.1, 0.2, 0.0)];
        let test = vec![Point::new(-5.999, 3.0e-7, 1.0)];
        let read = read_points_csv(write_points_csv(&train, &test).as_bytes()).unwrap();
        assert_eq!(read.train, train);
        assert_eq!(read.test, test);
        assert!(read.split && !read.regression);
    }

    #[test]
    fn columns_in_any_order_without_a_split_and_values_make_a_regression() {
        let read = read_points_csv(b"label, X2, x1\n0.5, 1, 2\n-0.25, 3, 4\n").unwrap();
        assert_eq!(
            read.train,
            vec![Point::new(2.0, 1.0, 0.5), Point::new(4.0, 3.0, -0.25)]
        );
        assert!(read.test.is_empty() && !read.split && read.regression);
    }

    #[test]
    fn bad_files_are_refused_with_the_line_and_the_reason() {
        let refused = |text: &str| read_points_csv(text.as_bytes()).unwrap_err();
        assert!(refused("a,b\n1,2\n").contains("no column named x1"));
        assert!(
            refused("x1,x2,label\n1,2,0\n3,x,1\n").contains("line 3: x2 is \"x\", not a number")
        );
        assert!(refused("x1,x2,label\n1,2,0\n3,4\n").contains("line 3 cannot be read"));
        assert!(refused("x1,x2,label\n1,2,NaN\n1,2,0\n").contains("not a finite number"));
        assert!(refused("x1,x2,label\n7,2,0\n1,2,0\n").contains("outside the plane"));
        assert!(refused("x1,x2,label\n1,2,0\n").contains("1 point: at least two"));
        assert!(refused("x1,x2,label,split\n1,2,0,test\n1,2,1,test\n").contains("marked train"));
        assert!(refused("x1,x2,label,split\n1,2,0,valid\n").contains("not train or test"));
        assert!(read_points_csv(&[0xff, 0xfe, 0x00]).is_err());
        let many = format!("x1,x2,label\n{}", "1,1,0\n".repeat(MAX_POINTS + 1));
        assert!(refused(&many).contains("more than 5000 points"));
        let long = format!("x1,x2,label\n1,2,0\n1,{},0\n", "9".repeat(200_000));
        let message = refused(&long);
        assert!(
            message.len() < 200,
            "the message quotes at most 20 characters: {message}"
        );
    }

    /// Thousands of damaged copies of a real file (bytes changed, cut, repeated) are each read or
    /// refused; none panics, and whatever is read obeys the file's rules.
    #[test]
    fn damaged_files_are_read_or_refused_never_a_panic() {
        use crate::engine::SeededRng;
        let train: Vec<Point> = (0..40)
            .map(|i| Point::new(i as f32 / 7.0 - 3.0, 2.5 - i as f32 / 9.0, (i % 2) as f32))
            .collect();
        let original = write_points_csv(&train[..30], &train[30..]).into_bytes();
        let mut rng = SeededRng::new(27);
        for _ in 0..3000 {
            let mut bytes = original.clone();
            match rng.below(3) {
                0 => {
                    for _ in 0..1 + rng.below(8) {
                        let at = rng.below(bytes.len());
                        bytes[at] = b",.-e\n0x\"\xff"[rng.below(9)];
                    }
                }
                1 => bytes.truncate(rng.below(bytes.len())),
                _ => {
                    let at = rng.below(bytes.len());
                    let piece = bytes[at..(at + 1 + rng.below(40)).min(bytes.len())].to_vec();
                    bytes.splice(at..at, piece);
                }
            }
            if let Ok(file) = read_points_csv(&bytes) {
                let points = file.train.iter().chain(&file.test);
                assert!(points.clone().count() >= 2 && !file.train.is_empty());
                assert!(
                    points
                        .clone()
                        .all(|p| p.x.abs() <= DOMAIN && p.y.abs() <= DOMAIN)
                );
                assert!(points.clone().all(|p| p.label.is_finite()));
            }
        }
    }
}

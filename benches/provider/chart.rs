//! The side-by-side chart `make bench` writes for docs/benchmarks.md: cold
//! wall time, CPU per cold invocation and peak RSS, ours beside CDK's.

use std::path::Path;

use plotters::prelude::*;

/// One panel: a title, a unit and the two medians (ours, CDK's).
pub struct Panel {
    pub title: &'static str,
    pub unit: &'static str,
    pub ours: f64,
    pub cdk: f64,
}

const OURS: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
const CDK: RGBColor = RGBColor(0x75, 0x70, 0xb3);

pub fn write(
    path: &Path,
    subtitle: &str,
    panels: &[Panel],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(48);
    top.draw(&Text::new(
        format!("cross-region-param vs CDK's reader, cold invocation ({subtitle})"),
        (12, 8),
        ("sans-serif", 18).into_font(),
    ))?;
    top.draw(&Text::new(
        "medians, lower is better",
        (12, 30),
        ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
    ))?;
    let areas = body.split_evenly((1, panels.len()));
    for (area, panel) in areas.iter().zip(panels) {
        let top = panel.ours.max(panel.cdk) * 1.2;
        let mut chart = ChartBuilder::on(area)
            .caption(panel.title, ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d((0u32..1u32).into_segmented(), 0f64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(panel.unit)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(0) => "ours".to_owned(),
                SegmentValue::CenterOf(1) => "CDK".to_owned(),
                _ => String::new(),
            })
            .draw()?;
        for (i, (value, color)) in [(panel.ours, OURS), (panel.cdk, CDK)]
            .into_iter()
            .enumerate()
        {
            let i = i as u32;
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), value),
                ],
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{value:.1}"),
                (SegmentValue::CenterOf(i), value + top * 0.03),
                ("sans-serif", 13).into_font(),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

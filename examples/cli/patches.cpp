// deepid patches: a contact sheet of a patch scheme on one face.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <deepid/face/contact_sheet.hpp>
#include <deepid/face/image.hpp>
#include <deepid/face/lfw.hpp>
#include <deepid/face/synthetic.hpp>

#include "commands.hpp"

namespace deepid_cli {

const char* const patches_usage =
    "usage: deepid patches (--image F --landmarks \"x1 y1 ... x5 y5\" | --lfw DIR --name NAME |\n"
    "                       --synthetic ID:SAMPLE) --out SHEET.png [--scheme deepid1|deepid1-100|deepid2]\n"
    "\n"
    "Writes a contact sheet: the aligned face with every region of the scheme drawn, and every\n"
    "patch with its flipped counterpart, as the nets see them.\n"
    "  --image F         an image file (JPEG, PNG, ...)\n"
    "  --landmarks TEXT  ten numbers: left eye x y, right eye x y, nose x y, left mouth corner\n"
    "                    x y, right mouth corner x y (image-left first, pixels)\n"
    "  --lfw DIR         an LFW folder (docs/faces.md); --name is an image such as\n"
    "                    Aaron_Eckhart_0001 or Aaron_Eckhart/Aaron_Eckhart_0001.jpg\n"
    "  --synthetic I:S   sample S of built-in synthetic identity I\n"
    "  --scheme NAME     deepid1 (60 patches, default), deepid1-100, deepid2 (200 candidates)\n";

namespace {

deepid::face::landmarks5 parse_landmarks(const std::string& text) {
  std::istringstream in(text);
  deepid::face::landmarks5 l;
  for (int i = 0; i < 10; ++i) {
    double v;
    if (!(in >> v)) throw usage_error("--landmarks needs ten numbers (x y for each of the five points), got " + std::to_string(i));
    (i % 2 ? l.points[std::size_t(i / 2)].y : l.points[std::size_t(i / 2)].x) = v;
  }
  std::string extra;
  if (in >> extra) throw usage_error("--landmarks has more than ten numbers ('" + extra + "')");
  return l;
}

std::string lfw_name(std::string name) {
  if (name.find('/') != std::string::npos) return name;
  if (name.size() > 4 && name.substr(name.size() - 4) == ".jpg") name.resize(name.size() - 4);
  const auto underscore = name.rfind('_');
  if (underscore == std::string::npos) throw usage_error("--name '" + name + "' is not an LFW image name like Aaron_Eckhart_0001");
  return name.substr(0, underscore) + "/" + name + ".jpg";
}

}  // namespace

int run_patches(arguments args) {
  const auto o = parse_options("patches", args, {"image", "landmarks", "lfw", "name", "synthetic", "out", "scheme"});
  if (o.help) return std::cout << patches_usage, 0;
  const std::string out = o.required("out");
  const int sources = int(o.has("image")) + int(o.has("lfw")) + int(o.has("synthetic"));
  if (sources != 1) throw usage_error("'deepid patches' needs exactly one of --image, --lfw or --synthetic");
  cv::Mat image;
  deepid::face::landmarks5 marks;
  std::string source;
  if (o.has("image")) {
    source = o.required("image");
    marks = parse_landmarks(o.required("landmarks"));
    image = deepid::face::load_image(source);
  } else if (o.has("lfw")) {
    const auto lfw = deepid::face::lfw_dataset::open(o.required("lfw"));
    source = lfw_name(o.required("name"));
    image = lfw.load(source);
    marks = lfw.landmarks().at(source).points;
  } else {
    const std::string spec = o.required("synthetic");
    int identity = 0, sample = 0;
    char colon = 0;
    std::istringstream in(spec);
    if (!(in >> identity >> colon >> sample) || colon != ':' || identity < 0 || sample < 0)
      throw usage_error("--synthetic '" + spec + "' is not IDENTITY:SAMPLE, e.g. 2:3");
    const auto face = deepid::face::synthetic_faces().render(identity, sample);
    image = face.image;
    marks = face.points;
    source = "synthetic " + spec;
  }
  deepid::face::validate(marks, image.cols, image.rows, source);
  const std::string scheme = o.has("scheme") ? o.required("scheme") : "deepid1";
  cv::Mat sheet;
  if (scheme == "deepid1") sheet = deepid::face::contact_sheet<deepid::face::deepid1_scheme>(image, marks);
  else if (scheme == "deepid1-100") sheet = deepid::face::contact_sheet<deepid::face::deepid1_scheme_100>(image, marks);
  else if (scheme == "deepid2") sheet = deepid::face::contact_sheet<deepid::face::deepid2_candidates>(image, marks);
  else throw usage_error("unknown --scheme '" + scheme + "' (deepid1, deepid1-100 or deepid2)");
  deepid::face::save_image(out, sheet);
  std::cout << "wrote " << out << " (" << sheet.cols << "x" << sheet.rows << ", scheme " << scheme << ", " << source << ")\n";
  return 0;
}

}  // namespace deepid_cli
